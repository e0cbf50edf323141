"""The spider of the crawl test: follows every link of the start page and yields each page's
url and html for the neardup pipeline."""

import scrapy


class SiteSpider(scrapy.Spider):
    name = "site"
    custom_settings = {
        "ITEM_PIPELINES": {"neardup_scrapy.NearDupPipeline": 300},
        "TELNETCONSOLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "CONCURRENT_REQUESTS": 4,
    }

    def __init__(self, start_url: str = "", **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start_url]

    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, self.parse_article)

    def parse_article(self, response):
        yield {"url": response.url, "html": response.text}

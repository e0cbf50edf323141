"""A Scrapy item pipeline that asks neardup about every scraped page: duplicates are dropped,
originals keep their clean article text.

Settings:
    ITEM_PIPELINES = {"neardup_scrapy.NearDupPipeline": 300}
    NEARDUP_ADDRESS = "127.0.0.1:50051"
    NEARDUP_NAMESPACE = "scrapy"      # one per feed or crawl you dedupe within
    NEARDUP_TIMEOUT = 10.0            # seconds per call
    NEARDUP_KEEP_HTML = False         # drop the raw page from kept items

Items need ``url`` and either ``html`` (the page, str or bytes) or ``text``; ``id`` (default:
the url) and ``source`` (default: the url's host) are optional. Kept items gain
``clean_text``, ``cluster_id`` and ``simhash`` (16 hex digits); feed exporters store them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from neardup_client import NearDupClient


class NearDupPipeline:
    def __init__(self, address: str, namespace: str, timeout: float, keep_html: bool):
        self.address = address
        self.namespace = namespace
        self.timeout = timeout
        self.keep_html = keep_html
        self.client = None

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(
            s.get("NEARDUP_ADDRESS", "127.0.0.1:50051"),
            s.get("NEARDUP_NAMESPACE", "scrapy"),
            s.getfloat("NEARDUP_TIMEOUT", 10.0),
            s.getbool("NEARDUP_KEEP_HTML", False),
        )

    def open_spider(self):
        self.client = NearDupClient(self.address, timeout=self.timeout)

    def close_spider(self):
        if self.client is not None:
            self.client.close()

    async def process_item(self, item):
        adapter = ItemAdapter(item)
        url = adapter.get("url", "")
        content = {"html": adapter["html"]} if adapter.get("html") is not None else {"text": adapter.get("text", "")}
        doc_id = adapter.get("id") or url
        source = adapter.get("source") or urlsplit(url).hostname or ""
        # grpcio calls block: run them on the reactor's thread pool.
        response = await maybe_deferred_to_future(
            deferToThread(
                self.client.check,
                doc_id,
                namespace=self.namespace,
                return_clean=True,
                source=source,
                url=url,
                **content,
            )
        )
        if self.client.is_duplicate(response):
            raise DropItem(f"{doc_id} duplicates {response.duplicate_of}")
        adapter["clean_text"] = response.clean_text
        adapter["cluster_id"] = response.cluster_id
        adapter["simhash"] = f"{response.simhash:016x}"
        if not self.keep_html and "html" in adapter:
            del adapter["html"]
        return item

"""A real Scrapy crawl of a local site whose articles are reachable under several URLs: the
neardup pipeline keeps one item per article, with its clean text, and drops the rest."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import EXAMPLES

HERE = os.path.dirname(os.path.abspath(__file__))


def article_page(title: str, body: str) -> bytes:
    paragraphs = "\n".join(
        f"<p>{html.escape(line)}</p>" for line in body.splitlines() if line.strip()
    )
    return (
        "<!doctype html><html lang=ar><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title></head><body>\n"
        "<nav><a href='/'>الرئيسية</a></nav>\n"
        f"<article><h1>{html.escape(title)}</h1>\n{paragraphs}\n</article>\n"
        "<footer>جميع الحقوق محفوظة</footer>\n</body></html>\n"
    ).encode("utf-8")


@pytest.fixture
def site(seeds):
    """Four articles (the first four seeds) under seven URLs."""
    pages = {}
    urls_of = {}
    aliases = {
        0: ["/news/0", "/amp/news/0", "/news/0?ref=home"],
        1: ["/news/1"],
        2: ["/news/2", "/mirror/2"],
        3: ["/news/3"],
    }
    for i, paths in aliases.items():
        name, text = seeds[i]
        title = next(line for line in text.splitlines() if len(line.split()) >= 5)
        page = article_page(title, text)
        for p in paths:
            pages[p] = page
        urls_of[name] = paths
    links = "".join(f"<a href='{p}'>{p}</a>\n" for ps in aliases.values() for p in ps)
    pages["/"] = f"<html><body>{links}</body></html>".encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"not found")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", urls_of
    server.shutdown()
    server.server_close()


def test_crawl_drops_duplicate_pages_and_keeps_clean_text(site, address, namespace, seeds, tmp_path):
    base, urls_of = site
    out = tmp_path / "items.jsonl"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(EXAMPLES), HERE]))
    proc = subprocess.run(
        [
            sys.executable, "-m", "scrapy", "runspider", os.path.join(HERE, "site_spider.py"),
            "-a", f"start_url={base}/",
            "-O", str(out),
            "-s", f"NEARDUP_ADDRESS={address}",
            "-s", f"NEARDUP_NAMESPACE={namespace}",
            "-s", "LOG_LEVEL=INFO",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = proc.stderr
    assert proc.returncode == 0, log[-4000:]
    dropped = re.search(r"'item_dropped_count': (\d+)", log)
    assert dropped and int(dropped.group(1)) == 3, log[-4000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(items) == 4, items
    by_article = {}
    for item in items:
        path = item["url"][len(base):]
        (name,) = [n for n, paths in urls_of.items() if path in paths]
        by_article.setdefault(name, []).append(item)
    assert sorted(by_article) == sorted(urls_of), "one item per article"
    for name, (item,) in by_article.items():
        text = dict(seeds)[name]
        paragraph = max(text.splitlines(), key=len)  # surely article text, not chrome
        clean = item["clean_text"]
        assert paragraph in clean or html.escape(paragraph) in clean, (name, clean[:500])
        assert "html" not in item, "the raw page is not stored"
        assert len(item["simhash"]) == 16
    assert len({i["cluster_id"] for i in items}) == 4

"""A small neardup client on grpcio.

The protobuf and gRPC stubs are generated from ``proto/neardup/v1/neardup.proto`` with
grpcio-tools the first time they are needed (into ``$NEARDUP_PY_GEN`` or ``_generated/`` next to
this file); nothing generated is committed.

    from neardup_client import NearDupClient
    with NearDupClient("127.0.0.1:50051") as nd:
        r = nd.check("a1", text="...", namespace="news")
        if nd.is_duplicate(r):
            print("duplicate of", r.duplicate_of)
"""

from __future__ import annotations

import importlib
import importlib.resources
import os
import pathlib
import sys
import threading
from typing import Iterable, Iterator, Optional, Union

import grpc

HERE = pathlib.Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent / "proto"
PROTO_FILE = "neardup/v1/neardup.proto"

_lock = threading.Lock()
_modules = None


def generate(out_dir: pathlib.Path) -> None:
    """Compile the proto into ``out_dir`` (``neardup/v1/neardup_pb2*.py``)."""
    from grpc_tools import protoc

    out_dir.mkdir(parents=True, exist_ok=True)
    well_known = str(importlib.resources.files("grpc_tools") / "_proto")
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        PROTO_FILE,
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"grpc_tools.protoc failed on {PROTO_ROOT / PROTO_FILE}")


def load(out_dir: Optional[Union[str, pathlib.Path]] = None):
    """Generate the stubs if missing or older than the proto, import and return
    ``(neardup_pb2, neardup_pb2_grpc)``."""
    global _modules
    with _lock:
        if _modules is not None:
            return _modules
        out = pathlib.Path(out_dir or os.environ.get("NEARDUP_PY_GEN") or HERE / "_generated")
        generated = out / "neardup" / "v1" / "neardup_pb2.py"
        proto = PROTO_ROOT / PROTO_FILE
        if not generated.exists() or generated.stat().st_mtime < proto.stat().st_mtime:
            generate(out)
        if str(out) not in sys.path:
            sys.path.insert(0, str(out))
        pb2 = importlib.import_module("neardup.v1.neardup_pb2")
        pb2_grpc = importlib.import_module("neardup.v1.neardup_pb2_grpc")
        _modules = (pb2, pb2_grpc)
        return _modules


class NearDupClient:
    """Thin wrapper over the generated ``NearDupStub``: builds requests, applies a timeout."""

    def __init__(self, address: str, timeout: float = 10.0, gzip: bool = False):
        self.pb2, self.pb2_grpc = load()
        compression = grpc.Compression.Gzip if gzip else None
        self.channel = grpc.insecure_channel(address, compression=compression)
        self.stub = self.pb2_grpc.NearDupStub(self.channel)
        self.timeout = timeout

    def document(
        self,
        doc_id: str,
        *,
        text: Optional[str] = None,
        html: Union[str, bytes, None] = None,
        source: str = "",
        url: str = "",
    ):
        """A ``neardup.v1.Document`` with text or html (exactly one)."""
        if (text is None) == (html is None):
            raise ValueError("give exactly one of text or html")
        doc = self.pb2.Document(id=doc_id, source=source, url=url)
        if text is not None:
            doc.text = text
        else:
            doc.html = html.encode("utf-8") if isinstance(html, str) else html
        return doc

    def check_request(self, doc_id: str, *, namespace: str = "", dry_run: bool = False,
                      return_clean: bool = False, **content):
        """A ``CheckRequest``; ``content`` goes to :meth:`document`."""
        return self.pb2.CheckRequest(
            namespace=namespace,
            document=self.document(doc_id, **content),
            dry_run=dry_run,
            return_clean=return_clean,
        )

    def check(self, doc_id: str, **kwargs):
        """Check one document (and remember it unless ``dry_run``)."""
        return self.stub.Check(self.check_request(doc_id, **kwargs), timeout=self.timeout)

    def check_stream(self, requests: Iterable) -> Iterator:
        """Stream ``CheckRequest``s; yields one ``CheckResponse`` per request, in order."""
        return self.stub.CheckStream(iter(requests))

    def clean(self, doc_id: str = "-", *, namespace: str = "", **content):
        """Strip boilerplate only."""
        req = self.pb2.CleanRequest(namespace=namespace, document=self.document(doc_id, **content))
        return self.stub.Clean(req, timeout=self.timeout)

    def delete(self, doc_id: str, namespace: str = "") -> bool:
        """Forget a document; True when it was known."""
        req = self.pb2.DeleteRequest(namespace=namespace, id=doc_id)
        return self.stub.Delete(req, timeout=self.timeout).deleted

    def stats(self, namespace: str = ""):
        """Counters per namespace."""
        return self.stub.Stats(self.pb2.StatsRequest(namespace=namespace), timeout=self.timeout)

    def audit(self, documents: Iterable, *, batch: int = 256, return_clusters: bool = False,
              top_lines: int = 0, count_invalid: bool = False, timeout: Optional[float] = None):
        """Audit a corpus on scratch state (the server's namespaces are untouched): stream
        ``Document``s in batches of ``batch``, get an ``AuditResponse`` (``summary``,
        ``summary_json`` as ``neardup audit`` writes it, ``clusters`` rows when asked)."""
        options = self.pb2.AuditOptions(
            return_clusters=return_clusters, top_lines=top_lines, count_invalid=count_invalid
        )

        def requests():
            first, chunk = True, []
            for doc in documents:
                chunk.append(doc)
                if len(chunk) == batch:
                    yield self.pb2.AuditRequest(options=options if first else None, documents=chunk)
                    first, chunk = False, []
            if chunk or first:
                yield self.pb2.AuditRequest(options=options if first else None, documents=chunk)

        return self.stub.Audit(requests(), timeout=timeout)

    def is_duplicate(self, response) -> bool:
        """True when a CheckResponse says duplicate."""
        return response.verdict == self.pb2.VERDICT_DUPLICATE

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "NearDupClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

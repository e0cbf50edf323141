"""A real grpcio client against the server: health, reflection, verdicts on the seeds and their
variants, streaming order, status codes."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)


def test_health_reports_serving(address):
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "neardup.v1.NearDup"):
            resp = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert resp.status == health_pb2.HealthCheckResponse.SERVING, service


def test_reflection_lists_and_describes_the_service(address):
    with grpc.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        (resp,) = list(stub.ServerReflectionInfo(iter([request]), timeout=5))
        names = {s.name for s in resp.list_services_response.service}
        assert {"neardup.v1.NearDup", "grpc.health.v1.Health"} <= names
        pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
        service = pool.FindServiceByName("neardup.v1.NearDup")
        methods = {m.name for m in service.methods}
        assert {"Check", "CheckStream", "Clean", "Delete", "Stats", "Echo", "Audit"} <= methods
        audit = service.methods_by_name["Audit"]
        assert audit.client_streaming and not audit.server_streaming
        check = pool.FindMessageTypeByName("neardup.v1.CheckResponse")
        assert check.fields_by_name["simhash"].type == check.fields_by_name["simhash"].TYPE_FIXED64


def test_the_five_seeds_are_all_unique(client, seeds, namespace):
    for name, text in seeds:
        resp = client.check(name, text=text, namespace=namespace)
        assert not client.is_duplicate(resp), f"{name} flagged as duplicate of {resp.duplicate_of}"
        assert resp.cluster_id == name
    stats = client.stats(namespace).namespaces
    assert [(s.documents, s.clusters, s.duplicates) for s in stats] == [(5, 5, 0)]


def reflowed(text: str) -> str:
    """Same text, other whitespace: blank lines doubled, trailing spaces, CRLF."""
    return "\r\n\r\n".join(line + "  " for line in text.splitlines()) + "\r\n"


def spaced(text: str) -> str:
    return text.replace(" ", "  \t ")


def with_chrome(text: str) -> str:
    return (
        "الرئيسية | أخبار | رياضة | اقتصاد\nشارك على فيسبوك\n"
        + text
        + "\nاشترك في النشرة البريدية\nجميع الحقوق محفوظة © 2024\n"
    )


def with_title_repeated(text: str) -> str:
    title = next(line for line in text.splitlines() if len(line.split()) >= 5)
    return f"{title}\n\n{title}\n\n{text}"


def check_variant(client, seeds, namespace, variant):
    for name, text in seeds:
        client.check(name, text=text, namespace=namespace)
    for name, text in seeds:
        resp = client.check(f"{name}-variant", text=variant(text), namespace=namespace)
        assert client.is_duplicate(resp), f"{variant.__name__} of {name} not found duplicate"
        assert resp.duplicate_of == name
        assert resp.cluster_id == name
        assert resp.matches and resp.matches[0].id == name


@pytest.mark.parametrize("variant", [reflowed, spaced])
def test_whitespace_variants_duplicate_their_own_seed(client, seeds, namespace, variant):
    check_variant(client, seeds, namespace, variant)


@pytest.mark.parametrize("variant", [with_chrome, with_title_repeated])
def test_chrome_variants_duplicate_their_own_seed(client, seeds, namespace, variant):
    check_variant(client, seeds, namespace, variant)


def test_check_stream_answers_in_order(client, seeds, namespace):
    (a, ta), (b, tb), (c, tc) = seeds[:3]
    order = [(a, ta), (b, tb), (f"{a}-copy", reflowed(ta)), (c, tc), (f"{b}-copy", tb)]
    requests = [client.check_request(i, text=t, namespace=namespace) for i, t in order]
    responses = list(client.check_stream(requests))
    assert [r.id for r in responses] == [i for i, _ in order]
    assert [r.duplicate_of for r in responses] == ["", "", a, "", b]


def test_dry_run_clean_text_and_delete(client, seeds, namespace):
    name, text = seeds[0]
    dry = client.check(name, text=text, namespace=namespace, dry_run=True, return_clean=True)
    assert not dry.inserted and dry.clean_text
    first = client.check(name, text=text, namespace=namespace)
    assert first.inserted and not client.is_duplicate(first)
    assert client.delete(name, namespace)
    again = client.check("again", text=text, namespace=namespace)
    assert not client.is_duplicate(again), "a deleted document no longer matches"
    cleaned = client.clean(text=text, namespace=namespace)
    assert cleaned.text


def test_bad_requests_get_status_codes_naming_the_field(client, namespace):
    with pytest.raises(grpc.RpcError) as err:
        client.check("", text="no id", namespace=namespace)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "document.id" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        client.stub.Check(client.pb2.CheckRequest(namespace=namespace), timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "document" in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        client.check("big", text="x" * (2 << 20), namespace=namespace)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "document.text" in err.value.details() and "limit" in err.value.details()
    # Still serving.
    assert not client.is_duplicate(client.check("fine", text="still here", namespace=namespace))


def test_gzip_channel(address, namespace):
    from neardup_client import NearDupClient

    with NearDupClient(address, gzip=True) as c:
        resp = c.check("g", text="compressed request " * 200, namespace=namespace)
        assert resp.id == "g"


def test_audit_summarizes_a_corpus_without_touching_namespaces(client, seeds, namespace):
    import json

    client.check("live", text=seeds[0][1], namespace=namespace)
    before = client.stats(namespace).namespaces
    docs = [client.document(name, text=text, source="seeds") for name, text in seeds]
    docs += [client.document(f"{name}-copy", text=reflowed(text)) for name, text in seeds[:2]]
    resp = client.audit(docs, batch=3, return_clusters=True)
    s = resp.summary
    assert (s.documents, s.exact_duplicates + s.near_duplicates, s.clusters) == (7, 2, 5)
    assert s.languages["ar"] == 7
    assert json.loads(resp.summary_json)["documents"] == 7
    assert [r.id for r in resp.clusters][-2:] == [f"{seeds[0][0]}-copy", f"{seeds[1][0]}-copy"]
    assert resp.clusters[-1].canonical_id == seeds[1][0]
    assert client.stats(namespace).namespaces == before
    with pytest.raises(grpc.RpcError) as err:
        client.audit([client.document("", text="no id")])
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "document 1" in err.value.details() and "document.id" in err.value.details()

"""The Compose ``--progress json`` parser on recorded Compose 2.40 lines and on the v5 shape."""

from __future__ import annotations

from pathlib import Path

from installer.launch.compose_progress import Kind, container_service, parse_line

DATA = Path(__file__).parent / "data"


def test_recorded_v2_up_lines_give_container_states_and_the_final_error() -> None:
    lines = (DATA / "compose-v2-up-unhealthy.jsonl").read_text().splitlines()
    parsed = [p for p in map(parse_line, lines) if p is not None]
    assert parsed[0].kind is Kind.network and parsed[0].action == "Creating"
    assert any(p.kind is Kind.volume and p.action == "Created" for p in parsed)
    db = [p.action for p in parsed if p.kind is Kind.container and p.subject == "e2e-parse-db-1"]
    assert db[:4] == ["Creating", "Created", "Starting", "Started"] and "Healthy" in db
    assert parsed[-1].kind is Kind.error
    assert parsed[-1].detail == "container e2e-parse-bad-1 is unhealthy"


def test_v5_shape_moves_the_action_to_text_and_keeps_details() -> None:
    p = parse_line('{"id":"Container p-db-1","status":"Working","text":"Starting"}')
    assert (p.kind, p.subject, p.action) == (Kind.container, "p-db-1", "Starting")
    p = parse_line('{"id":"Container p-db-1","status":"Done","text":"Healthy"}')
    assert p.action == "Healthy"
    p = parse_line('{"id":"Container p-bad-1","status":"Error","text":"Error","details":"unhealthy"}')
    assert (p.action, p.detail) == ("Error", "unhealthy")


def test_v2_pull_and_layer_lines() -> None:
    p = parse_line('{"id":"redis","text":"Pulling"}')
    assert (p.kind, p.subject, p.action) == (Kind.image, "redis", "Pulling")
    p = parse_line('{"id":"remote","text":"Error","status":"Get \\"http://127.0.0.1:5999/v2/\\": connection refused"}')
    assert p.action == "Error" and "connection refused" in p.detail
    p = parse_line('{"id":"a1b2","parent_id":"redis","text":"Downloading","current":512,"total":2048,"percent":25}')
    assert (p.kind, p.parent, p.current, p.total) == (Kind.image, "redis", 512, 2048)


def test_sigint_error_warning_raw_and_blank_lines() -> None:
    p = parse_line('{"error":true}')
    assert p.kind is Kind.error and p.detail == ""
    p = parse_line('{"level":"warning","msg":"the attribute `version` is obsolete"}')
    assert p.kind is Kind.warning and "obsolete" in p.detail
    p = parse_line("Step 1/3 : FROM scratch")
    assert p.kind is Kind.raw and p.detail.startswith("Step 1/3")
    assert parse_line("   ") is None
    assert parse_line("[1, 2]").kind is Kind.raw


def test_container_names_map_back_to_services_even_with_dashes() -> None:
    services = ["redis", "redis-commander", "miso-controller"]
    assert container_service("fabrix-x-redis-1", "fabrix-x", services) == "redis"
    assert container_service("fabrix-x-redis-commander-1", "fabrix-x", services) == "redis-commander"
    assert container_service("fabrix-x-miso-controller-2", "fabrix-x", services) == "miso-controller"
    assert container_service("other-redis-1", "fabrix-x", services) is None

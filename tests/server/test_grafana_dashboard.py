"""docs/grafana-dashboard.json reads only what `GET /metrics` really exposes: every metric
and label its queries name is in a scrape of a test server, so the dashboard cannot drift
from the code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from protocol.messages import Decision, new_id

pytestmark = pytest.mark.unit

DASHBOARD = Path("docs/grafana-dashboard.json")
DATASOURCE = "${DS_PROMETHEUS}"
# The sample names each type of family writes (prometheus-client's text format).
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
}
# Labels Prometheus adds to every scraped sample, and the buckets' own.
SCRAPE_LABELS = {"instance", "job", "le"}
# What issue 13 asks the dashboard to show.
WANTED = {
    "spacehub_decisions_total",
    "spacehub_tap_latency_seconds_bucket",
    "spacehub_door_path_lag_seconds",
    "spacehub_ingest_lag_seconds",
    "spacehub_release_lag_seconds",
    "spacehub_devices_online",
    "spacehub_rejected_messages_total",
    "spacehub_mail",
}


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, those inside collapsed rows too."""
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def queries(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL expression: the panels' targets and the template variables' queries."""
    exprs = [t["expr"] for p in panels(dashboard) for t in p.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        exprs.append(query["query"] if isinstance(query, dict) else query)
    return exprs


def exposed(client, admin) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    """Each sample name a scrape may carry, with the labels seen on its samples."""
    response = client.get("/metrics", headers=admin)
    assert response.status_code == 200, response.text
    names: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(response.text):
        for suffix in SUFFIXES[family.type]:
            names.setdefault(family.name + suffix, set())
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return names


def test_every_metric_and_label_the_dashboard_reads_is_exposed(client, ctx, admin) -> None:  # type: ignore[no-untyped-def]
    # one decision counted, so that the labelled counter has samples (and labels) to show
    ctx.metrics.decided(Decision(id=new_id(), granted=True, reason="staff"), seconds=0.003)
    names = exposed(client, admin)
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used: set[str] = set()
    for expr in queries(dashboard):
        metrics = set(re.findall(r"\b(spacehub_[a-z0-9_]+)", expr))
        assert metrics, f"no spacehub metric in {expr!r}"
        assert metrics <= names.keys(), f"{expr!r}: not exposed: {metrics - names.keys()}"
        labels = set(re.findall(r"\b[a-z_]+\b", " ".join(re.findall(r"by \(([^)]*)\)", expr))))
        labels |= set(re.findall(r"([a-z_]+)\s*=~?\"", expr))
        seen = set().union(*(names[m] for m in metrics))
        if seen:  # a family without samples yet has no labels to compare
            assert labels <= seen | SCRAPE_LABELS, f"{expr!r}: labels {labels - seen}"
        used |= metrics
    assert used >= WANTED, f"no panel shows {WANTED - used}"


def test_every_query_uses_the_datasource_input() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    shown = [p for p in panels(dashboard) if p["type"] != "row"]
    ids = [p["id"] for p in panels(dashboard)]
    assert len(set(ids)) == len(ids)
    for panel in shown:
        assert panel["datasource"]["uid"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE, panel["title"]

"""The compose `observability` profile and its config files hold together (no Docker engine
here: checked by reading them, and with promtool when it is installed)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.support import ROOT

yaml = pytest.importorskip("yaml")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_observability_profile_runs_prometheus_and_grafana_on_the_provisioned_files():
    services = compose()["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["observability"], name
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), volume
        for port in services[name]["ports"]:
            assert port.startswith("127.0.0.1:"), port  # no authentication in front of them
    for name in ("db", "migrate", "api"):
        assert "profiles" not in services[name], name  # `docker compose up` is unchanged


def test_prometheus_scrapes_both_pools_metrics_ports_which_are_not_published():
    services = compose()["services"]
    targets = []
    for name in ("api", "auth"):
        pool = services[name]
        port = pool["environment"]["METRICS_PORT"]
        assert pool["environment"]["METRICS_HOST"] == "0.0.0.0"
        assert "ports" not in pool  # nginx is the one published service
        assert all(port not in published for published in services["nginx"]["ports"])
        targets.append(f"{name}:{port}")
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["static_configs"][0]["targets"] == targets


def test_the_dashboard_uses_the_provisioned_data_source():
    provisioning = ROOT / "deploy" / "grafana" / "provisioning"
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090"
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "ticketing.json").read_text())
    uids = {target["datasource"]["uid"] for panel in dashboard["panels"] for target in panel["targets"]}
    assert uids == {source["uid"]}
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "ticketing.yml").read_text())["providers"]
    grafana = compose()["services"]["grafana"]
    assert any(v.endswith(":" + provider["options"]["path"] + ":ro") for v in grafana["volumes"])


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian: prometheus) is not installed")
def test_promtool_accepts_the_prometheus_config():
    done = subprocess.run(
        ["promtool", "check", "config", str(ROOT / "deploy" / "prometheus" / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr

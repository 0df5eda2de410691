"""The documentation keeps up with the code."""

from tests.support import ROOT
from ticketing.errors import PROBLEMS


def test_every_problem_type_is_in_the_catalogue():
    catalogue = (ROOT / "docs" / "errors.md").read_text()
    for kind, (status, _) in PROBLEMS.items():
        assert f"| `/problems/{kind}` | {status} |" in catalogue, kind


def test_every_setting_is_in_the_readme():
    import re

    readme = (ROOT / "README.md").read_text()
    config = (ROOT / "ticketing" / "config.py").read_text()
    names = set(re.findall(r'env(?:\.get)?\(\s*"([A-Z][A-Z0-9_]+)"', config))
    names |= set(re.findall(r'_(?:int|bool|choice|currency|http_url)\(\s*env,\s*"([A-Z][A-Z0-9_]+)"', config))
    names |= set(re.findall(r'env\["([A-Z][A-Z0-9_]+)"\]', config))
    names |= {"ADMIN_EMAIL", "ADMIN_PASSWORD", "ADMIN_NAME", "PORT", "HOST", "WEB_CONCURRENCY"}
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert missing == []


def test_every_front_door_setting_is_in_the_readme_with_its_default():
    from ticketing.frontdoor import SETTINGS

    readme = (ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    for name, setting in SETTINGS.items():
        if name == "RATE_LIMITS":  # a setting of the app too: its row is in the main table
            assert "`RATE_LIMITS`" in readme
            continue
        found = [row for row in rows if f"`{name}`" in row]
        assert found, f"{name} is not in README's configuration tables"
        assert setting.default in found[0].rsplit("|", 2)[1], (name, setting.default)


def test_every_cluster_setting_is_in_the_readme_with_its_default():
    import re

    readme = (ROOT / "README.md").read_text()
    cluster = (ROOT / "ticketing" / "cluster.py").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| `")]
    settings = re.findall(r'_int\(env, "([A-Z][A-Z0-9_]+)", (\d+),', cluster)
    assert {name for name, _ in settings} >= {"CLUSTER_APPS", "CLUSTER_PORT"}
    for name, default in settings:
        found = [row for row in rows if row.startswith(f"| `{name}`")]
        assert found and default in found[0].rsplit("|", 2)[1], name

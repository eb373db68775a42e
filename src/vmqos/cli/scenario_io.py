"""Reading scenario files (the one place the CLI touches them) and choosing servers."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import yaml

from vmqos.errors import ValidationError
from vmqos.intent.scenario import Scenario, Server
from vmqos.intent.scenario_parse import parse_scenario
from vmqos.intent.set_aside import Element

__all__ = ["load_scenario", "select_servers"]


def load_scenario(path: str | None, *, keep_going: bool = False) -> Scenario:
    """Read and validate a scenario file; ``None`` is the embedded seed scenario.
    ``keep_going`` sets aside each bad element instead of stopping at the first
    (:func:`vmqos.intent.scenario_parse.parse_scenario`)."""
    if path is None:
        text = resources.files("vmqos.scenarios").joinpath("seed.yaml").read_text()
        source = "the built-in seed scenario"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError(f"cannot read scenario {path!r}: {exc.strerror}",
                                  key="SCENARIO", value=path,
                                  allowed="a readable YAML or JSON file") from exc
        except UnicodeDecodeError as exc:
            raise ValidationError(f"scenario {path!r} is not UTF-8 text: {exc.reason} at "
                                  f"byte {exc.start}", key="SCENARIO", value=path,
                                  allowed="a UTF-8 YAML or JSON file") from exc
        source = path
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationError(f"{source} is not valid YAML: {exc}".replace("\n", " "),
                              key="SCENARIO", value=path,
                              allowed="a YAML or JSON document") from exc
    return parse_scenario(data, keep_going=keep_going)


def select_servers(scenario: Scenario, name: str | None) -> list[Server]:
    """All servers, or the one named (by name or id); an unknown name is a user error, a
    server the reader set aside is none (its entry says why)."""
    servers: Sequence[Server] = [s for s in scenario.servers if name in (None, s.name, s.id)]
    set_aside = any(e.element is Element.SERVER and name in (e.name, e.id)
                    for e in scenario.set_aside)
    if name is not None and not servers and not set_aside:
        known = ", ".join(s.name for s in scenario.servers)
        raise ValidationError(f"--server: no server named {name!r}; known: {known}",
                              key="--server", value=name, allowed=known)
    return list(servers)

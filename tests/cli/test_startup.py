"""The command line loads each command only when it runs (vmqos.cli.main.COMMANDS).

The figures are in benchmarks/startup.py; these tests hold what makes them true: which modules
a command may load, and that the lazy command list says exactly what click would say.
"""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from vmqos.cli.main import COMMANDS, LazyGroup, cli

# What a command that neither plots, serves nor touches the host must never load.
HEAVY = ("matplotlib", "fastapi", "starlette", "sqlalchemy", "pyroute2", "openstack",
         "vmqos.host", "vmqos.api", "vmqos.verify", "vmqos.ops")


def _modules_after(argv: list[str]) -> set[str]:
    """The modules loaded by running ``vmqos ARGV`` in a fresh interpreter."""
    code = ("import contextlib, io, json, sys\n"
            "from vmqos.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    code = main({argv!r})\n"
            "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    result = json.loads(done.stdout)
    assert result["code"] == 0, done.stderr
    return set(result["modules"])


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_help_loads_click_and_no_command() -> None:
    modules = _modules_after(["--help"])
    assert _heavy(modules) == []
    assert "rich" not in modules
    assert not {m for m in modules if m.startswith("vmqos.cli.")} - {"vmqos.cli.main"}
    assert not {m for m in modules if m.startswith(("vmqos.plan", "vmqos.intent"))}


@pytest.mark.parametrize("argv", [
    ["validate", "--property", "quota:cpu_shares=512"],
    ["validate", "--rule", "bandwidth_limit:max_kbps=3000", "--format", "json"],
])
def test_validate_loads_the_validators_only(argv: list[str]) -> None:
    modules = _modules_after(argv)
    assert _heavy(modules) == []
    assert "vmqos.plan.explain.explain" not in modules
    assert "yaml" not in modules  # no scenario is read
    # Findings print as plain diagnostics, and the lint reads the kernel's ranges and libvirt's
    # bandwidth sides from modules of their own, not from the renderers.
    assert "rich" not in modules
    assert not {"vmqos.plan.render.tc", "vmqos.plan.render.cgroup",
                "vmqos.plan.render.domain_xml"} & modules
    # Neutron's validators load for --rule only.
    assert any(m.startswith("vmqos.intent.neutron") for m in modules) == ("--rule" in argv)


def test_render_loads_no_io_layer() -> None:
    modules = _modules_after(["render", "tc", "--property", "quota:vif_inbound_average=32768",
                              "--dev", "tap0"])
    assert _heavy(modules) == []


def test_explain_loads_neither_host_nor_plots() -> None:
    modules = _modules_after(["explain", "--format", "json"])
    assert _heavy(modules) == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_summary_is_what_click_shows_of_the_docstring(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.name == name
    stand_in = click.Command(name, help=COMMANDS[name].summary)
    for width in (20, 45, 80, 10**6):
        assert stand_in.get_short_help_str(width) == command.get_short_help_str(width)


def test_lazy_help_is_the_eager_help() -> None:
    """`vmqos --help` printed from the summaries equals the list click prints with every
    command loaded."""
    lazy = LazyGroup(name="vmqos", help=cli.help, params=cli.params,
                     context_settings=cli.context_settings)
    eager = click.Group(name="vmqos", help=cli.help, params=cli.params,
                        context_settings=cli.context_settings)
    for name in COMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None
        eager.add_command(command, name)
    assert lazy.commands == {}
    texts = [group.get_help(click.Context(group, info_name="vmqos", terminal_width=w))
             for w in (80, 100) for group in (lazy, eager)]
    assert texts[0] == texts[1] and texts[2] == texts[3]
    assert "validate" in texts[0] and "Validate flavor properties" in texts[0]

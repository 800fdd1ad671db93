"""The app layers are a checked contract (`.importlinter`, run by scripts/test.sh as `lint-imports`): payouts ->
commissions -> tracking -> programs -> network -> core, reports reading from all, config on top. A wrong-way
import, at module level or inside a function, fails here."""

from pathlib import Path

import grimp
import pytest
from importlinter import api
from importlinter.contracts.layers import LayersContract

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def contract_options():
    config = api.read_configuration(str(ROOT / ".importlinter"))
    (options,) = config["contracts_options"]
    return config["session_options"], options


@pytest.fixture
def graph(contract_options):
    session, _ = contract_options
    return grimp.build_graph(*session["root_packages"], cache_dir=None)


def _kept(contract_options, graph) -> bool:
    session, options = contract_options
    contract = LayersContract(name=options["name"], session_options=session, contract_options=options)
    return contract.check(graph, verbose=False).kept


def test_the_layers_name_every_app_in_the_designs_order(contract_options):
    _, options = contract_options
    assert options["type"] == "layers"
    assert options["layers"] == ["config", "reports", "payouts", "commissions", "tracking", "programs", "network",
                                 "core"]


def test_the_code_keeps_the_app_layers(contract_options, graph):
    assert _kept(contract_options, graph)


@pytest.mark.parametrize(("importer", "imported"), [
    ("tracking.advertiser_views", "commissions.models"),  # the one that ran back up before
    ("network.models", "payouts.models"),
    ("core.money", "network.models"),
    ("commissions.services", "reports.selectors"),
    ("payouts.tasks", "config.settings"),
])
def test_a_wrong_way_import_breaks_the_contract(contract_options, graph, importer, imported):
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    assert not _kept(contract_options, graph)


def test_a_dashboard_page_may_show_the_figures_reports_computes(contract_options, graph):
    graph.add_import(importer="commissions.advertiser_views", imported="reports.selectors", line_number=1,
                     line_contents="from reports import selectors")
    assert _kept(contract_options, graph)

"""Each app's modules import each other as a DAG: no cycle, not even one dodged by an import inside a function
(issue 14, item 6). Tasks modules import the services they run; a service that must queue a task sends one of
its app's signals after commit and the tasks module's receiver queues it.

Read from the source with `ast` (nothing is imported to build the graph), so a cycle anywhere fails here, not
only in the process that happens to import the modules in the wrong order."""

import ast
import importlib
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("core", "network", "programs", "tracking", "commissions", "payouts", "reports")
# The four groups that were cycles, kept free of function-level imports from their own app.
UNTANGLED = (
    "commissions.services", "commissions.notifications", "commissions.tasks", "commissions.cpc",
    "commissions.receivers",
    "payouts.batches", "payouts.tasks", "payouts.transitions",
    "tracking.click_queue", "tracking.ingest",
    "tracking.services", "tracking.outbound", "tracking.tasks_outbound",
)


def _modules(app: str) -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "migrations" in parts:
            continue
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imports(module: str, path: Path) -> list[tuple[int, bool, list[str]]]:
    """(line, inside a function, modules the statement names: the module and each `from` name as a module)."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue  # not run: it cannot make a cycle
            if isinstance(child, ast.Import):
                found.append((child.lineno, in_function, [alias.name for alias in child.names]))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[:len(package) - child.level + 1]
                    target = ".".join([*base, child.module] if child.module else base)
                else:
                    target = child.module
                found.append((child.lineno, in_function, [target, *(f"{target}.{a.name}" for a in child.names)]))
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(ast.parse(path.read_text(), str(path)), False)
    return found


def _graph(app: str) -> dict[str, set[str]]:
    """Every import between the app's modules, module-level and function-level alike."""
    modules = _modules(app)
    return {
        module: {name for _line, _deferred, names in _imports(module, path) for name in names
                 if name in modules and name != module}
        for module, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path (first module repeated at the end), or None."""
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return None
        for target in sorted(graph[module]):
            found = walk(target, [*path, module])
            if found:
                return found
        done.add(module)
        return None

    for start in sorted(graph):
        found = walk(start, [])
        if found:
            return found
    return None


def test_the_scan_sees_a_cycle_hidden_in_a_function():
    graph = {"app.services": {"app.models"}, "app.models": set(), "app.tasks": {"app.services"}}
    assert _cycle(graph) is None
    graph["app.services"].add("app.tasks")  # `from .tasks import x` inside a service function
    assert _cycle(graph) == ["app.services", "app.tasks", "app.services"]


def test_relative_and_absolute_imports_resolve_to_the_same_module(tmp_path):
    source = tmp_path / "outbound.py"
    source.write_text("from . import services\n\ndef f():\n    from tracking.tasks_outbound import delivery_send\n")
    assert _imports("tracking.outbound", source) == [
        (1, False, ["tracking", "tracking.services"]),
        (4, True, ["tracking.tasks_outbound", "tracking.tasks_outbound.delivery_send"]),
    ]


@pytest.mark.parametrize("app", APPS)
def test_an_apps_modules_import_each_other_without_a_cycle(app):
    assert _cycle(_graph(app)) is None


@pytest.mark.parametrize("module", UNTANGLED)
def test_the_untangled_modules_import_their_own_app_at_module_level_only(module):
    app = module.split(".")[0]
    deferred = [(line, names[0]) for line, in_function, names in _imports(module, _modules(app)[module])
                if in_function and names[0].split(".")[0] == app]
    assert deferred == []
    assert importlib.import_module(module).__name__ == module


def test_the_services_queued_tasks_reach_their_task_modules():
    """The signals the services send after commit have their tasks modules' receivers connected (apps.py imports
    them): none is sent into the void."""
    from commissions.models import Commission
    from commissions.signals import commission_emails_due
    from payouts.models import Payout
    from payouts.signals import payout_email_due
    from tracking.models import Conversion, Delivery
    from tracking.signals import conversion_awaiting_click, deliveries_created

    for signal, sender in ((commission_emails_due, Commission), (payout_email_due, Payout),
                           (deliveries_created, Delivery), (conversion_awaiting_click, Conversion)):
        assert signal.has_listeners(sender)

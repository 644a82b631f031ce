"""Pipelines: creation from a plugin_tree or from a run's subtree, every validation error as a 400, the
permission matrix (draft/published × owner/other/anonymous/superuser), editing pipings and defaults, the
JSON form's round trip, search, and both media types."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import CJ, cj_items, cj_links, json_of

JSON = "application/json"
URL = "/api/v1/pipelines/"

# A ds plugin with what the built-ins lack: a required parameter with no default, and an input path.
PATHS_DESCRIPTOR = {
    "name": "pl-pathsapp", "version": "0.1.0", "dock_image": "localhost/cube/pl-pathsapp:0.1.0", "type": "ds",
    "public_repo": "https://example.org/pl-pathsapp", "authors": "tests", "title": "paths", "category": "",
    "description": "", "documentation": "", "license": "MIT", "icon": "", "selfpath": "/usr/local/bin",
    "selfexec": "pathsapp", "execshell": "python3", "min_number_of_workers": 1, "max_number_of_workers": 4,
    "min_memory_limit": "", "max_memory_limit": "", "min_cpu_limit": "", "max_cpu_limit": "",
    "min_gpu_limit": 0, "max_gpu_limit": 0,
    "parameters": [
        {"name": "level", "type": "int", "optional": False, "flag": "--level", "short_flag": "-l",
         "action": "store", "help": "required, no default", "ui_exposed": True},
        {"name": "extra", "type": "path", "optional": False, "flag": "--extra", "short_flag": "-e",
         "action": "store", "help": "an input path", "ui_exposed": True},
    ],
}


@pytest.fixture
def plugins(system: Any) -> dict[str, Any]:
    from django.core.management import call_command

    from plugins.models import Plugin
    from plugins.services import plugin_register

    call_command("register_plugins", "--builtins", "--compute-names", "host")
    plugin_register(descriptor=PATHS_DESCRIPTOR, compute_names=["host"])
    return {p.meta.name: p for p in Plugin.objects.select_related("meta")}


@pytest.fixture
def users(make_user: Any, system: Any) -> dict[str, Any]:
    return {"alice": make_user("alice"), "bob": make_user("bob"), "chris": system}


def ds(plugins: dict[str, Any]) -> Any:
    return plugins["pl-simpledsapp"]


def tree(*nodes: dict[str, Any]) -> str:
    return json.dumps(list(nodes))


def node(title: str, previous: str | None, plugin: Any, **extra: Any) -> dict[str, Any]:
    return {"title": title, "previous": previous, "plugin_id": plugin.id, **extra}


def create(api: Any, user: Any, name: str, plugin_tree: Any, **fields: Any) -> Any:
    api.force_authenticate(user)
    return api.post(URL, {"name": name, "plugin_tree": plugin_tree, **fields}, format="json", HTTP_ACCEPT=JSON)


def simple_pipeline(api: Any, user: Any, plugins: dict[str, Any], name: str = "p1", **fields: Any) -> dict[str, Any]:
    r = create(api, user, name, tree(
        node("a", None, ds(plugins), plugin_parameter_defaults=[{"name": "prefix", "default": "x"}]),
        node("b", "a", ds(plugins), plugin_parameter_defaults=[{"name": "dummyInt", "default": 7}],
             cpu_limit="2000m", memory_limit="500Mi")), **fields)
    assert r.status_code == 201, r.content
    return json_of(r)


# --- creation ---


@pytest.mark.django_db
def test_create_from_plugin_tree(api: Any, plugins: Any, users: Any) -> None:
    from plugins.models import DefaultPipingIntParameter, DefaultPipingStrParameter, PluginPiping

    body = simple_pipeline(api, users["alice"], plugins, authors="A <a@x.org>", category="tests")
    assert body["name"] == "p1" and body["locked"] is True and body["owner_username"] == "alice"
    assert body["authors"] == "A <a@x.org>" and body["category"] == "tests"
    for link in ("plugins", "plugin_pipings", "default_parameters", "json_repr"):
        assert body[link].startswith("http://testserver/api/v1/pipelines/")
    a, b = PluginPiping.objects.filter(pipeline_id=body["id"]).order_by("id")
    plugin = ds(plugins)
    assert (a.title, a.previous_id, b.title, b.previous_id) == ("a", None, "b", a.id)
    # resources: the plugin's minimums unless given
    assert (a.cpu_limit, a.memory_limit, a.number_of_workers, a.gpu_limit) == (
        plugin.min_cpu_limit, plugin.min_memory_limit, plugin.min_number_of_workers, plugin.min_gpu_limit)
    assert (b.cpu_limit, b.memory_limit) == (2000, 500)
    # a default row for every parameter: the given value, else the plugin's default
    assert DefaultPipingStrParameter.objects.get(plugin_piping=a, plugin_param__name="prefix").value == "x"
    assert DefaultPipingStrParameter.objects.get(plugin_piping=b, plugin_param__name="prefix").value == ""
    assert DefaultPipingIntParameter.objects.get(plugin_piping=b, plugin_param__name="dummyInt").value == 7
    assert DefaultPipingIntParameter.objects.get(plugin_piping=a, plugin_param__name="dummyInt").value == 1


@pytest.mark.django_db
def test_create_with_collection_json_template_and_name_version(api: Any, plugins: Any, users: Any) -> None:
    api.force_authenticate(users["alice"])
    nodes = tree({"title": "root", "previous": None, "plugin_name": "pl-simpledsapp", "plugin_version": "2.1.0"})
    doc = {"template": {"data": [{"name": "name", "value": "cj"}, {"name": "plugin_tree", "value": nodes},
                                 {"name": "locked", "value": False}]}}
    r = api.post(URL, json.dumps(doc), content_type=CJ)
    assert r.status_code == 201, r.content
    item = cj_items(r)[0]
    assert item["name"] == "cj" and item["locked"] is False
    assert {"plugins", "plugin_pipings", "default_parameters", "json_repr"} <= set(item["links"])


@pytest.mark.django_db
def test_classic_previous_index_is_accepted(api: Any, plugins: Any, users: Any) -> None:
    r = create(api, users["alice"], "classic", json.dumps([
        {"title": "r", "previous_index": None, "plugin_id": ds(plugins).id},
        {"title": "c", "previous_index": 0, "plugin_id": ds(plugins).id}]))
    assert r.status_code == 201, r.content
    pipings = json_of(api.get(f"{URL}{json_of(r)['id']}/pipings/", HTTP_ACCEPT=JSON))["results"]
    by_title = {p["title"]: p for p in pipings}
    assert by_title["c"]["previous_id"] == by_title["r"]["id"]


@pytest.mark.django_db
def test_ts_node_with_several_parents(api: Any, plugins: Any, users: Any) -> None:
    from plugins.models import DefaultPipingStrParameter, PluginPiping

    ts = plugins["pl-topologicalcopy"]
    r = create(api, users["alice"], "dag", tree(
        node("root", None, ds(plugins)), node("left", "root", ds(plugins)), node("right", "root", ds(plugins)),
        node("join", "left", ts, plugin_parameter_defaults=[{"name": "plugininstances", "default": "left,right"}])))
    assert r.status_code == 201, r.content
    pipings = {p.title: p for p in PluginPiping.objects.filter(pipeline_id=json_of(r)["id"])}
    row = DefaultPipingStrParameter.objects.get(plugin_piping=pipings["join"], plugin_param__name="plugininstances")
    # stored as piping ids (what a workflow maps to its runs), shown as titles in the JSON form
    assert row.value == f"{pipings['left'].id},{pipings['right'].id}"
    plugin_tree = json.loads(json_of(api.get(f"{URL}{json_of(r)['id']}/json/", HTTP_ACCEPT=JSON))["plugin_tree"])
    join = next(n for n in plugin_tree if n["title"] == "join")
    assert {"name": "plugininstances", "default": "left,right"} in join["plugin_parameter_defaults"]


def _errors(plugins: dict[str, Any]) -> list[tuple[str, Any, str]]:
    d, ts, fs, paths = ds(plugins), plugins["pl-topologicalcopy"], plugins["pl-dircopy"], plugins["pl-pathsapp"]
    return [
        ("invalid JSON", "[{", "Invalid JSON"),
        ("not a list", json.dumps({"title": "a"}), "list of nodes"),
        ("empty", "[]", "at least one node"),
        ("node not an object", json.dumps([1]), "JSON object"),
        ("no title", tree({"previous": None, "plugin_id": d.id}), "non-empty title"),
        ("two roots", tree(node("a", None, d), node("b", None, d)), "exactly one root"),
        ("no root", tree(node("a", "b", d), node("b", "a", d)), "exactly one root"),
        ("cycle below the root", tree(node("r", None, d), node("a", "b", d), node("b", "a", d)), "not connected"),
        ("duplicate titles", tree(node("a", None, d), node("a", "a", d)), "unique"),
        ("unknown previous", tree(node("a", None, d), node("b", "zzz", d)), "not the title of a node"),
        ("fs plugin", tree(node("a", None, fs)), "fs plugin"),
        ("unknown plugin id", tree({"title": "a", "previous": None, "plugin_id": 999999}), "no plugin with id"),
        ("unknown name/version", tree({"title": "a", "previous": None, "plugin_name": "pl-simpledsapp",
                                       "plugin_version": "9.9"}), "no plugin pl-simpledsapp version 9.9"),
        ("no plugin given", tree({"title": "a", "previous": None}), "plugin_name and plugin_version"),
        ("unknown parameter", tree(node("a", None, d, plugin_parameter_defaults=[{"name": "nope", "default": 1}])),
         "has no parameter 'nope'"),
        ("default without value", tree(node("a", None, d, plugin_parameter_defaults=[{"name": "prefix"}])),
         "'name' and 'default'"),
        ("wrong int", tree(node("a", None, d, plugin_parameter_defaults=[{"name": "dummyInt", "default": "x"}])),
         "not an integer"),
        ("wrong float", tree(node("a", None, d, plugin_parameter_defaults=[{"name": "dummyFloat", "default": "x"}])),
         "not a float"),
        ("wrong bool", tree(node("a", None, d, plugin_parameter_defaults=[{"name": "ignoreInputDir",
                                                                           "default": "maybe"}])), "not a boolean"),
        ("path default", tree(node("a", None, paths, plugin_parameter_defaults=[{"name": "extra",
                                                                                 "default": "home/alice"}])),
         "no defaults for input paths"),
        ("cpu above max", tree(node("a", None, d, cpu_limit=10**10)), "cpu_limit must be between"),
        ("workers above max", tree(node("a", None, d, number_of_workers=5)), "number_of_workers must be between"),
        ("bad memory", tree(node("a", None, d, memory_limit="lots")), "invalid memory_limit"),
        ("ts parent unknown", tree(node("r", None, d), node("t", "r", ts, plugin_parameter_defaults=[
            {"name": "plugininstances", "default": "r,ghost"}])), "'ghost', which is not another node"),
        ("ts parents without previous", tree(node("r", None, d), node("x", "r", d), node("t", "r", ts,
            plugin_parameter_defaults=[{"name": "plugininstances", "default": "x"}])), "include its previous"),
        ("ts parents cycle", tree(node("r", None, d), node("t1", "r", ts, plugin_parameter_defaults=[
            {"name": "plugininstances", "default": "r,t2"}]), node("t2", "t1", ts, plugin_parameter_defaults=[
            {"name": "plugininstances", "default": "t1"}])), "cycle"),
    ]


@pytest.mark.django_db
def test_every_tree_error_is_a_400_naming_the_problem(api: Any, plugins: Any, users: Any) -> None:
    from plugins.models import Pipeline

    for i, (case, bad_tree, message) in enumerate(_errors(plugins)):
        r = create(api, users["alice"], f"bad{i}", bad_tree)
        assert r.status_code == 400, (case, r.content)
        errors = json_of(r)["plugin_tree"]
        assert any(message in e for e in errors), (case, errors)
    # and the same error in Collection+JSON
    r = api.post(URL, {"name": "x", "plugin_tree": "[]"}, format="json", HTTP_ACCEPT=CJ)
    assert r.status_code == 400 and "plugin_tree" in json_of(r)["collection"]["error"]["message"]
    assert not Pipeline.objects.exists()


@pytest.mark.django_db
def test_field_errors(api: Any, plugins: Any, users: Any) -> None:
    simple_pipeline(api, users["alice"], plugins, name="taken")
    one = tree(node("a", None, ds(plugins)))
    cases = [
        ({"plugin_tree": one}, "name", "required"),
        ({"name": "", "plugin_tree": one}, "name", "may not be blank"),
        ({"name": "taken", "plugin_tree": one}, "name", "already exists"),
        ({"name": "n" * 101, "plugin_tree": one}, "name", "At most 100"),
        ({"name": "x", "plugin_tree": one, "locked": "sure"}, "locked", "not a boolean"),
        ({"name": "x"}, "non_field_errors", "One of plugin_tree or plugin_inst_id"),
        ({"name": "x", "plugin_tree": one, "plugin_inst_id": 1}, "non_field_errors", "not both"),
        ({"name": "x", "plugin_inst_id": "abc"}, "plugin_inst_id", "valid integer"),
        ({"name": "x", "plugin_inst_id": 424242}, "plugin_inst_id", "No plugin instance 424242"),
    ]
    api.force_authenticate(users["alice"])
    for data, field, message in cases:
        r = api.post(URL, data, format="json", HTTP_ACCEPT=JSON)
        assert r.status_code == 400, (data, r.content)
        assert any(message in e for e in json_of(r)[field]), (data, json_of(r))
    assert api.post(URL, "[1, 2]", content_type=JSON, HTTP_ACCEPT=JSON).status_code == 400


@pytest.mark.django_db
def test_unlocking_needs_every_default(api: Any, plugins: Any, users: Any) -> None:
    paths = plugins["pl-pathsapp"]
    r = create(api, users["alice"], "open", tree(node("a", None, paths)), locked=False)
    assert r.status_code == 400 and "a: level" in json_of(r)["locked"][0]
    r = create(api, users["alice"], "open", tree(node("a", None, paths, plugin_parameter_defaults=[
        {"name": "level", "default": 3}])), locked=False)
    assert r.status_code == 201 and json_of(r)["locked"] is False


# --- from a run's subtree ---


@pytest.fixture
def feed_runs(plugins: Any, users: Any) -> dict[str, Any]:
    from feeds.services.instances import instance_create

    alice, d, ts = users["alice"], ds(plugins), plugins["pl-topologicalcopy"]
    root = instance_create(user=alice, plugin=plugins["pl-dircopy"], data={"dir": "home/alice/uploads"})
    a = instance_create(user=alice, plugin=d, data={"previous_id": root.id, "title": "first", "prefix": "p-",
                                                    "cpu_limit": "1500m"})
    b = instance_create(user=alice, plugin=d, data={"previous_id": a.id, "dummyInt": 5})
    c = instance_create(user=alice, plugin=d, data={"previous_id": a.id, "title": "third"})
    t = instance_create(user=alice, plugin=ts, data={"previous_id": b.id, "title": "join",
                                                     "plugininstances": f"{b.id},{c.id}"})
    return {"root": root, "a": a, "b": b, "c": c, "t": t}


@pytest.mark.django_db
def test_create_from_plugin_instance(api: Any, plugins: Any, users: Any, feed_runs: Any) -> None:
    a, b = feed_runs["a"], feed_runs["b"]
    api.force_authenticate(users["alice"])
    r = api.post(URL, {"name": "from-run", "plugin_inst_id": a.id}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 201, r.content
    tree_nodes = json.loads(json_of(api.get(f"{URL}{json_of(r)['id']}/json/", HTTP_ACCEPT=JSON))["plugin_tree"])
    by_title = {n["title"]: n for n in tree_nodes}
    untitled = f"pl-simpledsapp_{b.id}"  # a run without a title gets a unique one
    assert set(by_title) == {"first", untitled, "third", "join"}
    assert by_title["first"]["previous"] is None and by_title["first"]["cpu_limit"] == 1500
    assert {"name": "prefix", "default": "p-"} in by_title["first"]["plugin_parameter_defaults"]
    assert {"name": "dummyInt", "default": 5} in by_title[untitled]["plugin_parameter_defaults"]
    assert {"name": "plugininstances", "default": f"{untitled},third"} in by_title["join"]["plugin_parameter_defaults"]
    assert by_title["join"]["previous"] == untitled


@pytest.mark.django_db
def test_plugin_instance_errors(api: Any, plugins: Any, users: Any, feed_runs: Any) -> None:
    api.force_authenticate(users["alice"])
    r = api.post(URL, {"name": "x", "plugin_inst_id": feed_runs["root"].id}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "only a ds instance" in json_of(r)["plugin_inst_id"][0]
    r = api.post(URL, {"name": "x", "plugin_inst_id": feed_runs["b"].id}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "outside the subtree" in json_of(r)["plugin_inst_id"][0]
    # bob cannot read alice's private feed: same answer as a missing instance
    api.force_authenticate(users["bob"])
    r = api.post(URL, {"name": "x", "plugin_inst_id": feed_runs["a"].id}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "you can read" in json_of(r)["plugin_inst_id"][0]
    # the superuser can read every feed
    api.force_authenticate(users["chris"])
    r = api.post(URL, {"name": "x", "plugin_inst_id": feed_runs["a"].id}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 201, r.content


# --- permissions ---


def _status(api: Any, user: Any, method: str, url: str, data: Any = None) -> int:
    api.force_authenticate(user)
    call = getattr(api, method)
    r = call(url, data, format="json", HTTP_ACCEPT=JSON) if data is not None else call(url, HTTP_ACCEPT=JSON)
    return int(r.status_code)


@pytest.mark.django_db
def test_permission_matrix(api: Any, plugins: Any, users: Any) -> None:
    alice, bob, chris = users["alice"], users["bob"], users["chris"]
    draft = simple_pipeline(api, alice, plugins, name="draft")
    public = simple_pipeline(api, alice, plugins, name="public", locked=False)
    for pipeline in (draft, public):
        pid = pipeline["id"]
        readers = (alice, chris, bob, None) if pipeline is public else (alice, chris)
        hidden = () if pipeline is public else (bob, None)
        for sub in ("", "json/", "plugins/", "pipings/", "parameters/"):
            for user in readers:
                assert _status(api, user, "get", f"{URL}{pid}/{sub}") == 200, (pipeline["name"], sub, user)
            for user in hidden:
                assert _status(api, user, "get", f"{URL}{pid}/{sub}") == 404, (pipeline["name"], sub, user)
    # listing: alice sees both, bob and anonymous only the published one, chris both
    for user, names in ((alice, {"draft", "public"}), (bob, {"public"}), (None, {"public"}),
                        (chris, {"draft", "public"})):
        api.force_authenticate(user)
        assert {p["name"] for p in json_of(api.get(URL, HTTP_ACCEPT=JSON))["results"]} == names
    # writes
    pub = f"{URL}{public['id']}/"
    assert _status(api, None, "put", pub, {"description": "x"}) in (401, 403)
    assert _status(api, bob, "put", pub, {"description": "x"}) == 403
    assert _status(api, bob, "delete", pub) == 403
    assert _status(api, bob, "put", f"{URL}{draft['id']}/", {"description": "x"}) == 404
    assert _status(api, alice, "put", pub, {"description": "by alice"}) == 200
    assert _status(api, chris, "put", pub, {"description": "by chris"}) == 200
    assert _status(api, None, "post", URL, {"name": "anon", "plugin_tree": tree(node("a", None, ds(plugins)))}) in (
        401, 403)
    assert _status(api, chris, "delete", pub) == 204
    assert _status(api, alice, "delete", f"{URL}{draft['id']}/") == 204
    assert _status(api, alice, "get", f"{URL}{draft['id']}/") == 404


@pytest.mark.django_db
def test_unlock_once_never_relock(api: Any, plugins: Any, users: Any) -> None:
    p = simple_pipeline(api, users["alice"], plugins)
    url = f"{URL}{p['id']}/"
    api.force_authenticate(users["alice"])
    r = api.put(url, {"locked": False, "name": "renamed"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 200 and json_of(r)["locked"] is False and json_of(r)["name"] == "renamed"
    r = api.put(url, {"locked": True}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "cannot be locked again" in json_of(r)["locked"][0]
    simple_pipeline(api, users["alice"], plugins, name="other")
    r = api.put(url, {"name": "other"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "already exists" in json_of(r)["name"][0]


@pytest.mark.django_db
def test_piping_resources(api: Any, plugins: Any, users: Any) -> None:
    p = simple_pipeline(api, users["alice"], plugins)
    api.force_authenticate(users["alice"])
    piping = json_of(api.get(f"{URL}{p['id']}/pipings/", HTTP_ACCEPT=JSON))["results"][0]
    url = piping["url"]
    r = api.put(url, {"cpu_limit": "3000m", "number_of_workers": 1}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 200 and json_of(r)["cpu_limit"] == 3000
    for bad, field in (({"cpu_limit": 10**10}, "cpu_limit"), ({"number_of_workers": 9}, "number_of_workers"),
                       ({"memory_limit": "huge"}, "memory_limit"), ({"gpu_limit": True}, "gpu_limit")):
        r = api.put(url, bad, format="json", HTTP_ACCEPT=JSON)
        assert r.status_code == 400 and field in json_of(r), bad
    assert _status(api, users["bob"], "get", url) == 404
    assert _status(api, users["bob"], "put", url, {"cpu_limit": 1000}) == 404
    assert _status(api, users["chris"], "put", url, {"cpu_limit": 2000}) == 200
    api.force_authenticate(users["alice"])
    api.put(f"{URL}{p['id']}/", {"locked": False}, format="json")
    r = api.put(url, {"cpu_limit": 1000}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "published" in json_of(r)["detail"][0]
    assert _status(api, users["bob"], "get", url) == 200
    assert _status(api, users["bob"], "put", url, {"cpu_limit": 1000}) == 403
    # Collection+JSON item with its links
    api.force_authenticate(None)
    item = cj_items(api.get(url))[0]
    assert item["title"] == "a" and {"plugin", "pipeline"} <= set(item["links"])


@pytest.mark.django_db
def test_typed_defaults(api: Any, plugins: Any, users: Any) -> None:
    ts = plugins["pl-topologicalcopy"]
    r = create(api, users["alice"], "typed", tree(node("a", None, ds(plugins)), node("t", "a", ts)))
    pid = json_of(r)["id"]
    rows = json_of(api.get(f"{URL}{pid}/parameters/?limit=100", HTTP_ACCEPT=JSON))["results"]
    by_name = {(d["plugin_piping_title"], d["param_name"]): d for d in rows}
    assert len(rows) == 8  # 5 simpledsapp + 3 topologicalcopy parameters
    plugin = ds(plugins)
    assert by_name[("a", "prefix")]["plugin_piping_cpu_limit"] == plugin.min_cpu_limit
    assert by_name[("a", "prefix")]["plugin_piping_number_of_workers"] == plugin.min_number_of_workers
    cases = [(("a", "prefix"), "string", "new", "new"), (("a", "dummyInt"), "integer", "12", 12),
             (("a", "dummyFloat"), "float", 2.5, 2.5), (("a", "ignoreInputDir"), "boolean", "true", True)]
    for key, ptype, value, stored in cases:
        row = by_name[key]
        assert row["type"] == ptype and f"/pipelines/{ptype}-parameter/{row['id']}/" in row["url"]
        r = api.put(row["url"], {"value": value}, format="json", HTTP_ACCEPT=JSON)
        assert r.status_code == 200 and json_of(r)["value"] == stored, (key, r.content)
    r = api.put(by_name[("a", "dummyInt")]["url"], {"value": "1.5"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "Invalid integer" in json_of(r)["value"][0]
    r = api.put(by_name[("a", "dummyInt")]["url"], {}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "required" in json_of(r)["value"][0]
    r = api.put(by_name[("t", "plugininstances")]["url"], {"value": "1"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400 and "fixed" in json_of(r)["value"][0]
    str_id = by_name[("a", "prefix")]["id"]
    assert _status(api, users["bob"], "get", f"{URL}string-parameter/{str_id}/") == 404
    assert _status(api, users["bob"], "put", f"{URL}string-parameter/{str_id}/", {"value": "x"}) == 404
    assert _status(api, users["chris"], "put", f"{URL}string-parameter/{str_id}/", {"value": "y"}) == 200
    api.force_authenticate(users["alice"])
    api.put(f"{URL}{pid}/", {"locked": False}, format="json")
    r = api.put(f"{URL}string-parameter/{str_id}/", {"value": "z"}, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 400
    assert _status(api, None, "get", f"{URL}string-parameter/{str_id}/") == 200
    assert _status(api, users["bob"], "put", f"{URL}string-parameter/{str_id}/", {"value": "x"}) == 403


@pytest.mark.django_db
def test_json_form_round_trips(api: Any, plugins: Any, users: Any) -> None:
    p = simple_pipeline(api, users["alice"], plugins, description="d")
    api.force_authenticate(users["alice"])
    doc = json_of(api.get(f"{URL}{p['id']}/json/", HTTP_ACCEPT=JSON))
    assert doc["name"] == "p1" and doc["description"] == "d" and isinstance(doc["plugin_tree"], str)
    doc["name"] = "copy"
    r = api.post(URL, doc, format="json", HTTP_ACCEPT=JSON)
    assert r.status_code == 201, r.content
    copy = json_of(api.get(f"{URL}{json_of(r)['id']}/json/", HTTP_ACCEPT=JSON))
    assert json.loads(copy["plugin_tree"]) == json.loads(doc["plugin_tree"])
    # the Collection+JSON rendering of the same document
    body = json_of(api.get(f"{URL}{p['id']}/json/"))
    data = {d["name"]: d["value"] for d in body["collection"]["items"][0]["data"]}
    assert data["name"] == "p1" and json.loads(data["plugin_tree"])[0]["title"] == "a"


@pytest.mark.django_db
def test_plugins_pipings_parameters_lists(api: Any, plugins: Any, users: Any) -> None:
    p = simple_pipeline(api, users["alice"], plugins, locked=False)
    r = api.get(f"{URL}{p['id']}/plugins/", HTTP_ACCEPT=JSON)
    assert [x["name"] for x in json_of(r)["results"]] == ["pl-simpledsapp"]  # distinct
    r = api.get(f"{URL}{p['id']}/pipings/")
    items = cj_items(r)
    assert [i["title"] for i in items] == ["a", "b"] and cj_links(r)["pipeline"].endswith(f"/pipelines/{p['id']}/")
    assert items[1]["links"]["previous"] == items[0]["href"]
    r = api.get(f"{URL}{p['id']}/parameters/")
    assert json_of(r)["collection"]["total"] == 10 and "plugin_piping" in cj_items(r)[0]["links"]


@pytest.mark.django_db
def test_search(api: Any, plugins: Any, users: Any) -> None:
    simple_pipeline(api, users["alice"], plugins, name="Brain MRI", category="mri", authors="Ann <ann@x.org>",
                    locked=False)
    simple_pipeline(api, users["bob"], plugins, name="Lung CT", category="ct", description="lungs", locked=False)
    simple_pipeline(api, users["bob"], plugins, name="bob draft")
    api.force_authenticate(None)

    def names(query: str) -> set[str]:
        r = api.get(f"{URL}search/?{query}", HTTP_ACCEPT=JSON)
        assert r.status_code == 200
        return {p["name"] for p in json_of(r)["results"]}

    assert names("name=brain") == {"Brain MRI"}
    assert names("name_exact=Lung%20CT") == {"Lung CT"}
    assert names("name_exact=lung%20ct") == set()
    assert names("owner_username=bob") == {"Lung CT"}  # bob's draft stays hidden from others
    assert names("category=mr") == {"Brain MRI"}
    assert names("authors=ann") == {"Brain MRI"}
    assert names("description=lung") == {"Lung CT"}
    assert names("min_creation_date=2000-01-01T00:00:00Z") == {"Brain MRI", "Lung CT"}
    assert names("max_creation_date=2000-01-01T00:00:00Z") == set()
    api.force_authenticate(users["bob"])
    assert names("owner_username=bob") == {"Lung CT", "bob draft"}
    # the list advertises the search query and the template (Collection+JSON)
    body = json_of(api.get(URL))["collection"]
    assert body["queries"][0]["href"].endswith("/api/v1/pipelines/search/")
    # chrisapi's PipelineList.getPlugins follows the list's 'plugins' link.
    assert {link["rel"]: link["href"] for link in body["links"]}["plugins"].endswith("/api/v1/plugins/")
    assert {d["name"] for d in body["template"]["data"]} >= {"name", "plugin_tree", "plugin_inst_id", "locked"}


@pytest.mark.django_db
def test_root_links_and_bounded_queries(api: Any, plugins: Any, users: Any,
                                        django_assert_max_num_queries: Any) -> None:
    links = cj_links(api.get("/api/v1/"))
    assert links["pipelines"].endswith("/api/v1/pipelines/")
    assert links["pipelinesourcefiles"].endswith("/api/v1/pipelines/sourcefiles/")
    for i in range(12):
        simple_pipeline(api, users["alice"], plugins, name=f"p{i}")
    api.force_authenticate(users["alice"])
    for limit in (1, 12):
        with django_assert_max_num_queries(4):
            r = api.get(f"{URL}?limit={limit}", HTTP_ACCEPT=JSON)
        assert len(json_of(r)["results"]) == limit

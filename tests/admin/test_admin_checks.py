"""Admin checks (``core.admin.checks``): each option's mistakes give one exact message.

Each case is a correct ``ModelAdmin`` with one option broken; the check must name
the option, the item, the bad value and the hint, and say nothing else. Every admin
that the repository's apps (and the test apps) register must pass.
"""
import pytest
import tornado.web
import wtforms

from core.admin import ModelAdmin, action
from core.admin.changelist import ChangeList
from core.admin.checks import (AdminConfigurationError, CheckMessage, check_model_admin,
                               check_site, raise_for_errors)
from core.admin.handlers import (CreateHandler, DeleteHandler, DetailHandler, ListHandler,
                                 ObjectHandler, UpdateHandler)
from core.admin.sites import AdminSite
from core.app import make_app
from core.registry import Registry
from support import make_settings


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("checks"),
                             ["core.audit", "apps.accounts", "apps.blog", "admin_demo"])
    return Registry(settings).load()


@pytest.fixture(scope="module")
def note(registry):
    return registry.get_model("notes.note")


@pytest.fixture(scope="module")
def plain(registry):
    return registry.get_model("notes.plain")


# -- a correct admin, using every option -----------------------------------------------------
class NoteList(ListHandler):
    pass


class NoteDetail(DetailHandler):
    pass


class NoteChangeList(ChangeList):
    pass


class NoteForm(wtforms.Form):
    title = wtforms.StringField()


class GoodNoteAdmin(ModelAdmin):
    list_display = ["title", "category", "done", "id", "__str__", "pk", "rank_text"]
    list_display_links = ["title"]
    list_filter = ["done", "kind", "category"]
    search_fields = ["title", "body", "kind", "owner", "tags"]
    ordering = ["-created", "title", "-id"]
    sortable_fields = ["title", "rank", "created", "due"]
    fields = ["title", "body", "kind", "done", "rank", "category", "tags", "owner", "created"]
    readonly_fields = ["owner", "created"]
    exclude = ["due"]
    actions = ["delete_selected", "mark_done"]
    list_per_page = 25
    list_per_page_choices = (25, 50)
    list_handler = NoteList
    detail_handler = NoteDetail
    create_handler = CreateHandler
    update_handler = UpdateHandler
    delete_handler = DeleteHandler
    history_handler = ObjectHandler
    changelist_class = NoteChangeList

    def rank_text(self, obj):
        return f"#{obj.rank}"

    @action(permission="write")
    async def mark_done(self, handler, objects):
        return None


class GoodPlainAdmin(ModelAdmin):
    list_display = ["name", "score"]
    search_fields = ["name", "api_token"]
    fields = ["name", "score"]


def broken(base, **attrs):
    """A subclass of ``base`` named like it, with ``attrs`` changed."""
    return type(base.__name__, (base,), attrs)


async def async_column(self, obj):
    return obj.title


async def _publish(self, handler, objects):
    return None


def _sync_action(self, handler, objects):
    return None


class NotAHandler(tornado.web.RequestHandler):
    pass


# (case id, model fixture, base admin, the broken option, expected: (id, option, index,
# value, hint, a phrase of the text))
CASES = [
    # list_display
    ("display-typo", "note", GoodNoteAdmin, {"list_display": ["title", "titel"]},
     ("admin.E010", "list_display", 1, "titel", "Did you mean 'title'?",
      "is not a field of Note, a method of GoodNoteAdmin or of Note.")),
    ("display-method-typo", "note", GoodNoteAdmin, {"list_display": ["title", "rank_txt"]},
     ("admin.E010", "list_display", 1, "rank_txt", "Did you mean 'rank_text'?",
      "is not a field of Note")),
    ("display-hidden", "plain", GoodPlainAdmin, {"list_display": ["name", "key_hash"]},
     ("admin.E011", "list_display", 1, "key_hash", None, "is a hidden field of Plain")),
    ("display-async-model", "note", GoodNoteAdmin, {"list_display": ["title", "reload"]},
     ("admin.E012", "list_display", 1, "reload", None, "is an async method of Note")),
    ("display-string", "note", GoodNoteAdmin,
     {"list_display": "title", "list_display_links": None},
     ("admin.E001", "list_display", None, "title", "Write ['title'].",
      "must be a list or tuple of names, not a string.")),
    ("display-not-a-name", "note", GoodNoteAdmin, {"list_display": ["title", "rank_text", 3]},
     ("admin.E002", "list_display", 2, 3, None, "is not a name (a string).")),
    # list_display_links
    ("links-not-a-column", "note", GoodNoteAdmin, {"list_display_links": ["titel"]},
     ("admin.E020", "list_display_links", 0, "titel", "Did you mean 'title'?",
      "is not a column of list_display.")),
    ("links-default-columns", "note", GoodNoteAdmin,
     {"list_display": None, "list_display_links": ["created"]},
     ("admin.E020", "list_display_links", 0, "created",
      "Choose from: title, body, kind, done, rank.",
      "is not a column of list_display.")),
    # list_filter
    ("filter-typo", "note", GoodNoteAdmin, {"list_filter": ["dne"]},
     ("admin.E030", "list_filter", 0, "dne", "Did you mean 'done'?", "is not a field of Note.")),
    ("filter-text", "note", GoodNoteAdmin, {"list_filter": ["done", "owner"]},
     ("admin.E031", "list_filter", 1, "owner",
      "Choose from: kind, done, rank, category, tags, due, created.",
      "is a StringField without choices: the filter sidebar offers booleans")),
    ("hierarchy-not-a-date", "note", GoodNoteAdmin, {"date_hierarchy": "rank"},
     ("admin.E032", "date_hierarchy", None, "rank", "Choose from: due, created.",
      "is not a date field of Note.")),
    # search_fields
    ("search-typo", "note", GoodNoteAdmin, {"search_fields": ["title", "bdy"]},
     ("admin.E040", "search_fields", 1, "bdy", "Did you mean 'body'?",
      "is not a field of Note.")),
    ("search-number", "note", GoodNoteAdmin, {"search_fields": ["rank"]},
     ("admin.E041", "search_fields", 0, "rank", "Choose from: title, body, kind, owner, tags.",
      "is an IntegerField, which holds no text")),
    ("search-reference", "note", GoodNoteAdmin, {"search_fields": ["category"]},
     ("admin.E041", "search_fields", 0, "category",
      "Choose from: title, body, kind, owner, tags.", "is a ReferenceField")),
    ("search-hidden", "plain", GoodPlainAdmin, {"search_fields": ["key_hash"]},
     ("admin.E041", "search_fields", 0, "key_hash", "Choose from: name, api_token.",
      "is hidden: search matches text fields")),
    ("search-string", "note", GoodNoteAdmin, {"search_fields": "title"},
     ("admin.E001", "search_fields", None, "title", "Write ['title'].", "not a string")),
    # ordering
    ("ordering-typo", "note", GoodNoteAdmin, {"ordering": ["-creatd"]},
     ("admin.E050", "ordering", 0, "-creatd", "Did you mean '-created'?",
      "is not a field of Note or 'id'")),
    ("ordering-hidden", "plain", GoodPlainAdmin, {"ordering": ["-key_hash"]},
     ("admin.E051", "ordering", 0, "-key_hash", None, "is a hidden field of Plain")),
    ("ordering-list", "note", GoodNoteAdmin, {"ordering": ["tags", "-id"]},
     ("admin.E051", "ordering", 0, "tags", None, "is a list field of Note")),
    ("ordering-string", "note", GoodNoteAdmin, {"ordering": "-created"},
     ("admin.E001", "ordering", None, "-created", "Write ['-created'].", "not a string")),
    # sortable_fields
    ("sortable-typo", "note", GoodNoteAdmin, {"sortable_fields": ["rnak"]},
     ("admin.E060", "sortable_fields", 0, "rnak", "Did you mean 'rank'?",
      "is not a field of Note.")),
    ("sortable-list", "note", GoodNoteAdmin, {"sortable_fields": ["title", "tags"]},
     ("admin.E061", "sortable_fields", 1, "tags",
      "Choose from: title, body, kind, done, rank, category, owner, due, created.",
      "is a list: the list cannot sort")),
    # fields
    ("fields-typo", "note", GoodNoteAdmin, {"fields": ["title", "catgory"]},
     ("admin.E070", "fields", 1, "catgory", "Did you mean 'category'?",
      "is not a field of Note.")),
    ("fields-hidden", "plain", GoodPlainAdmin, {"fields": ["name", "key_hash"]},
     ("admin.E071", "fields", 1, "key_hash", None, "forms never show it")),
    # readonly_fields
    ("readonly-typo", "note", GoodNoteAdmin, {"readonly_fields": ["ownr"]},
     ("admin.E080", "readonly_fields", 0, "ownr", "Did you mean 'owner'?",
      "is not a field of Note.")),
    ("readonly-method", "note", GoodNoteAdmin, {"readonly_fields": ["rank_text"]},
     ("admin.E080", "readonly_fields", 0, "rank_text", "Did you mean 'rank'?",
      "is not a field of Note.")),
    ("readonly-hidden", "plain", GoodPlainAdmin, {"readonly_fields": ["key_hash"]},
     ("admin.E081", "readonly_fields", 0, "key_hash", None, "forms never show it")),
    # exclude
    ("exclude-typo", "note", GoodNoteAdmin, {"exclude": ["du"]},
     ("admin.E090", "exclude", 0, "du", "Did you mean 'due'?", "is not a field of Note.")),
    # actions
    ("action-typo", "note", GoodNoteAdmin, {"actions": ["delete_selected", "mark_dne"]},
     ("admin.E100", "actions", 1, "mark_dne", "Did you mean 'mark_done'?",
      "is not 'delete_selected' nor a method of GoodNoteAdmin decorated with @action.")),
    ("action-undecorated", "note", GoodNoteAdmin, {"actions": ["rank_text"]},
     ("admin.E100", "actions", 0, "rank_text", "Choose from: delete_selected, mark_done.",
      "decorated with @action")),
    ("action-permission", "note", GoodNoteAdmin,
     {"actions": ["publish"], "publish": action(permission="publish")(_publish)},
     ("admin.E101", "actions", 0, "publish", "Choose from: read, write, delete, export.",
      "needs the permission 'publish', which Note does not declare (its actions: read, "
      "write, delete, export).")),
    ("action-sync", "note", GoodNoteAdmin,
     {"actions": ["sync_one"], "sync_one": action(_sync_action)},
     ("admin.E102", "actions", 0, "sync_one", "Declare it with 'async def'.",
      "is not an async method")),
    # list_per_page
    ("per-page-zero", "note", GoodNoteAdmin, {"list_per_page": 0},
     ("admin.E110", "list_per_page", None, 0, None, "must be a positive integer.")),
    ("per-page-text", "note", GoodNoteAdmin, {"list_per_page": "25"},
     ("admin.E110", "list_per_page", None, "25", None, "must be a positive integer.")),
    ("per-page-not-offered", "note", GoodNoteAdmin, {"list_per_page": 30},
     ("admin.E111", "list_per_page", None, 30, "Did you mean 25?",
      "is not one of list_per_page_choices (25, 50).")),
    ("per-page-choices", "note", GoodNoteAdmin, {"list_per_page_choices": (25, -1)},
     ("admin.E112", "list_per_page_choices", None, (25, -1), None,
      "must be a non-empty list of positive integers.")),
    # list_fields
    ("list-fields-typo", "note", GoodNoteAdmin, {"list_fields": ["titel"]},
     ("admin.E140", "list_fields", 0, "titel", "Did you mean 'title'?",
      "is not a field of Note: the list page would not fetch it.")),
    ("list-fields-path-typo", "note", GoodNoteAdmin, {"list_fields": ["ctegory.name"]},
     ("admin.E140", "list_fields", 0, "ctegory.name", "Did you mean 'category'?",
      "is not a field of Note")),
    # changelist_class
    ("changelist-class", "note", GoodNoteAdmin, {"changelist_class": NoteList},
     ("admin.E121", "changelist_class", None, NoteList, None,
      "must be None or a subclass of core.admin.changelist.ChangeList.")),
    # form_class
    ("form-class", "note", GoodNoteAdmin, {"form_class": dict},
     ("admin.E130", "form_class", None, dict, None,
      "must be None or a subclass of wtforms.form.Form.")),
] + [
    # the handlers: each must extend its page's handler
    (f"{option}-wrong", "note", GoodNoteAdmin, {option: NotAHandler},
     ("admin.E120", option, None, NotAHandler, None,
      f"must be None or a subclass of {base.__module__}.{base.__name__}."))
    for option, base in [("list_handler", ListHandler), ("detail_handler", DetailHandler),
                         ("create_handler", CreateHandler), ("update_handler", UpdateHandler),
                         ("delete_handler", DeleteHandler), ("history_handler", ObjectHandler)]
]


def test_correct_admins_have_no_messages(note, plain):
    assert check_model_admin(GoodNoteAdmin(note)) == []
    assert check_model_admin(GoodPlainAdmin(plain)) == []
    assert check_model_admin(ModelAdmin(note)) == []        # the defaults are right too
    async_columns = broken(GoodNoteAdmin, list_display=["title", "column"],
                           list_display_links=None, column=async_column)
    assert check_model_admin(async_columns(note)) == []     # an async admin column is fine


def test_a_swapped_page_of_the_wrong_kind_is_refused(note):
    messages = check_model_admin(broken(GoodNoteAdmin, list_handler=DetailHandler)(note))
    assert [(m.id, m.option, m.value) for m in messages] == [
        ("admin.E120", "list_handler", DetailHandler)]


@pytest.mark.parametrize("model_name, base, attrs, expected",
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_each_broken_option_gives_exactly_its_message(request, model_name, base, attrs,
                                                      expected):
    model = request.getfixturevalue(model_name)
    messages = check_model_admin(broken(base, **attrs)(model))
    assert len(messages) == 1, [str(m) for m in messages]
    message = messages[0]
    id_, option, index, value, hint, phrase = expected
    assert (message.id, message.option, message.index, message.value, message.hint) == \
        (id_, option, index, value, hint), str(message)
    assert (message.admin, message.model) == (base.__name__, model._meta.key)
    assert phrase in message.text, message.text
    line = str(message)
    assert "\n" not in line
    where = option if index is None else f"{option}[{index}]"
    assert line.startswith(f"{model._meta.key} ({base.__name__}): {where} ")
    assert line.endswith(hint if hint else message.text)


def test_the_message_is_one_line_naming_model_admin_option_value_and_hint(registry):
    article = registry.get_model("blog.article")
    from apps.blog.admin import ArticleAdmin
    typo = broken(ArticleAdmin, list_display=["title", "category", "titel"])
    assert [str(m) for m in check_model_admin(typo(article))] == [
        "blog.article (ArticleAdmin): list_display[2] 'titel' is not a field of Article, a "
        "method of ArticleAdmin or of Article. Did you mean 'title'?"]


def test_several_mistakes_are_all_reported_in_option_order(note):
    admin = broken(GoodNoteAdmin, list_display=["titel", "title"], list_filter=["dne"],
                   search_fields=["bdy"], ordering=["-creatd"], exclude=["du"])(note)
    assert [(m.id, m.where) for m in check_model_admin(admin)] == [
        ("admin.E010", "list_display[0]"), ("admin.E030", "list_filter[0]"),
        ("admin.E040", "search_fields[0]"), ("admin.E050", "ordering[0]"),
        ("admin.E090", "exclude[0]")]


def test_raise_for_errors_carries_every_message(note):
    raise_for_errors([])                                     # nothing to say: no error
    messages = check_model_admin(broken(GoodNoteAdmin, list_filter=["dne"],
                                        exclude=["du"])(note))
    with pytest.raises(AdminConfigurationError) as caught:
        raise_for_errors(messages)
    assert caught.value.messages == messages
    text = str(caught.value)
    assert text.startswith("the admin is misconfigured (2 errors):")
    for message in messages:
        assert str(message) in text.splitlines()
    from core.conf import ImproperlyConfigured
    assert isinstance(caught.value, ImproperlyConfigured)    # manage.py: "error: ...", exit 1


def test_check_site_collects_every_admin(registry):
    site = AdminSite(registry)
    assert check_site(site) == []
    site.admins["notes.note"] = broken(GoodNoteAdmin, search_fields=["bdy"])(
        registry.get_model("notes.note"), site=site)
    messages = check_site(site)
    assert [(m.model, m.id) for m in messages] == [("notes.note", "admin.E040")]
    assert isinstance(messages[0], CheckMessage)


APP_SETS = [
    ["core.audit", "apps.accounts", "apps.blog"],
    ["apps.accounts", "admin_demo"],
    ["core.audit", "apps.accounts", "audit_demo"],
    ["apps.accounts", "acl_shop"],
    ["apps.accounts", "auth_demo"],
]


@pytest.mark.parametrize("apps", APP_SETS, ids=["+".join(apps) for apps in APP_SETS])
def test_every_registered_admin_passes(tmp_path, apps):
    settings = make_settings(tmp_path, apps)
    site = AdminSite(Registry(settings).load())
    assert len(site.admins) >= 2
    assert [str(m) for m in check_site(site)] == []


async def test_the_site_of_the_test_settings_app_passes(tmp_path):
    """The site ``make_app`` builds for settings.test's own INSTALLED_APPS."""
    from core.conf import load_settings
    installed = load_settings("settings.test", environ={}).INSTALLED_APPS
    app = make_app(make_settings(tmp_path, list(installed)))
    try:
        keys = set(app.admin_site.admins)
        assert {"audit.entry", "accounts.user", "accounts.role", "blog.article",
                "blog.category"} <= keys
        assert [str(m) for m in check_site(app.admin_site)] == []
    finally:
        await app.db.close()


def test_list_fields_naming_fields_or_none_pass(note):
    for value in (["title", "category.name"], (), None):
        assert check_model_admin(broken(GoodNoteAdmin, list_fields=value)(note)) == [], value


def test_a_page_permission_must_name_an_installed_model_and_its_action(registry):
    site = AdminSite(registry)
    site.register_page("notes", "Fine", "/admin/notes/fine/", object,
                       permission="notes.note:export")
    site.register_page("notes", "Anyone", "/admin/notes/anyone/", object)
    site.register_page("notes", "Callable", "/admin/notes/callable/", object,
                       permission=lambda handler: True)
    assert check_site(site) == []
    site.register_page("notes", "Stats", "/admin/notes/stats/", object,
                       permission="notes.nte:read")
    site.register_page("notes", "Publish", "/admin/notes/publish/", object,
                       permission="notes.note:exprt")
    messages = check_site(site)
    assert [(m.id, m.model, m.admin, m.option, m.value, m.hint) for m in messages] == [
        ("admin.E150", "notes", "page /admin/notes/stats/", "permission", "notes.nte:read",
         "Did you mean 'notes.note'?"),
        ("admin.E151", "notes", "page /admin/notes/publish/", "permission",
         "notes.note:exprt", "Did you mean 'export'?")]
    assert str(messages[0]) == (
        "notes (page /admin/notes/stats/): permission 'notes.nte:read' names no installed "
        "model: the page's link would be hidden from everyone, superusers too. "
        "Did you mean 'notes.note'?")
    with pytest.raises(AdminConfigurationError):
        raise_for_errors(messages)


def test_an_app_page_with_an_unknown_model_stops_start_up(tmp_path, monkeypatch):
    """Not a link silently hidden from everyone: ``make_app`` refuses, naming it."""
    from apps.accounts.app import AccountsApp
    page = dict(AccountsApp.admin_pages[0], permission="accounts.usr:read")
    monkeypatch.setattr(AccountsApp, "admin_pages", [page])
    with pytest.raises(AdminConfigurationError) as caught:
        make_app(make_settings(tmp_path, ["core.audit", "apps.accounts"]))
    assert [(m.id, m.value) for m in caught.value.messages] == [
        ("admin.E150", "accounts.usr:read")]


def test_a_page_permission_that_is_not_text_is_a_check_error(registry):
    """A permission that is neither text, a callable nor None would break every page's
    navigation (``AdminPage.may_see`` partitions it): ``admin.E150``."""
    site = AdminSite(registry)
    site.register_page("notes", "Odd", "/admin/notes/odd/", object, permission=123)
    assert [(m.id, m.value, m.text) for m in check_site(site)] == [
        ("admin.E150", 123, "must be '<app>.<model>:<action>', a callable or None.")]

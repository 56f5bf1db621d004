"""Property-based run of the OpenAPI document against the app, in process.

Schemathesis generates requests from /api/openapi.json (valid ones, and ones breaking the
schema) and sends them to Django's WSGI app with a real token: no answer may be a 5xx, and
every answer must match the document. Path parameters get real ids as examples, and the
instance creates real bodies, so that requests reach existing functions, versions and
instances, not only 404s and 422s.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from functions_ui.api.openapi import openapi_document
from functions_ui.api.services import api_token_create
from functions_ui.deploys.instances import source_instance_create
from functions_ui.permissions.models import Role
from tests.deploys.helpers import make_destination, make_insert
from tests.factories import make_function, make_member, make_setting
from versioning.models import Version
from versioning.services import version_save

# Examples per operation and generation mode; the whole run stays well under a minute.
MAX_EXAMPLES = 40


OPERATIONS = [
    (method.upper(), path)
    for path, methods in openapi_document()["paths"].items()
    for method in methods
]


@pytest.fixture
def api_schema(db, workspace, settings):
    """The document with real ids as path examples, bound to the WSGI app, and a token."""
    settings.API_RATE_LIMIT_REQUESTS = 1_000_000
    # As Django's test client does: keep the test's transaction open across requests.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    owner = make_member(workspace=workspace, role=Role.WORKSPACE_OWNER)
    _, raw = api_token_create(workspace=workspace, user=owner)
    function = make_function(workspace=workspace, resource_type="SOURCE", code="one\n")
    version_save(function=function, user=owner, code="one\ntwo\n", base_version_id=None)
    versions = list(Version.objects.filter(function=function).order_by("number"))
    make_setting(function=function, name="apiKey", sensitive=True)
    source = source_instance_create(
        function=function, user=owner, name="Site", raw_settings={"apiKey": "sk_x"}
    )
    _, destination = make_destination(workspace=workspace, sources=[source])
    _, free_destination = make_destination(workspace=workspace, sources=[source], name="Spare")
    insert_function, insert = make_insert(workspace=workspace, destination=destination)
    document = openapi_document(server_url="/api/v1")
    examples = {
        "functionId": function.public_id,
        "instanceId": source.public_id,
        "versionId": versions[0].id,
        "baseVersionId": versions[0].id,
        "targetVersionId": versions[1].id,
    }
    insert_examples = {"functionId": insert_function.public_id, "instanceId": insert.public_id}
    bodies = {
        ("/functions/{functionId}/instances", "post"): {"name": "Shop", "settings": {}},
        ("/functions/{functionId}/instances/{instanceId}", "patch"): {
            "name": "Shop",
            "settings": {"apiKey": "sk_y"},
        },
        ("/insert-function-instances", "post"): {
            "functionId": insert_function.catalog_id,
            "integrationId": free_destination.public_id,
            "name": "Enricher",
            "settings": {},
        },
        ("/insert-function-instances/{instanceId}", "patch"): {"enabled": False},
    }
    for path, operations in document["paths"].items():
        names = insert_examples if path.startswith("/insert-") else examples
        for method, operation in operations.items():
            for parameter in operation["parameters"]:
                if parameter["name"] in names:
                    parameter["example"] = names[parameter["name"]]
            if (path, method) in bodies:
                content = operation["requestBody"]["content"]["application/json"]
                content["example"] = bodies[path, method]
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = get_wsgi_application()
    yield loaded, raw
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_api_matches_its_document(api_schema, method, path):
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    loaded, raw = api_schema
    operation = loaded[path][method]
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        *loaded.get_strategies_from_examples(operation),
    )

    @given(case=strategy)
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case):
        case.call_and_validate(
            headers={"Authorization": f"Bearer {raw}"},
            checks=[not_a_server_error, response_schema_conformance],
        )

    check()

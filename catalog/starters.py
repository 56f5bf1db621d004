"""Starter code offered when a function is created and in the editor's Templates tab."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalog.models import ResourceType
from catalog.starters_library import LIBRARY
from functions_ui.runtime.types import HANDLER_BY_EVENT_TYPE


@dataclass(frozen=True)
class Starter:
    slug: str
    name: str
    description: str
    resource_type: str
    code: str
    is_default: bool = False
    # Settings the code reads (declarations only) and test payloads to try it on: (name, data).
    settings: tuple[dict[str, Any], ...] = ()
    payloads: tuple[tuple[str, Any], ...] = ()


SOURCE_DEFAULT = """\
// Source functions receive a webhook and emit events with the Segment object.
// Read settings inside the handler: they differ between connected instances.

/**
 * Handle an incoming HTTP request.
 *
 * @param {FunctionRequest} request  json(), text(), headers (Headers), url (URL)
 * @param {FunctionSettings} settings
 */
async function onRequest(request, settings) {
  const body = request.json();

  // Throw a RetryError to have the request tried again later,
  // or any other error to reject it for good.
  if (!body || typeof body !== 'object') {
    throw new InvalidEventPayload('Expected a JSON object');
  }

  Segment.track({
    event: body.event || 'Webhook Received',
    userId: body.userId || 'anonymous-user',
    properties: body.properties || {}
  });
}
"""

DESTINATION_HANDLER = """\
/**
 * Handle a{an} {kind} event.
 *
 * @param {{SegmentEvent}} event
 * @param {{FunctionSettings}} settings
 */
async function {handler}(event, settings) {{
  throw new EventNotSupported('{kind} is not supported');
}}
"""

DESTINATION_DEFAULT = """\
// Destination functions receive events and send them wherever you need.
// Each event type has its own handler; remove one to leave that type unsupported.

/**
 * Handle a track event.
 *
 * @param {SegmentTrackEvent} event
 * @param {FunctionSettings} settings
 */
async function onTrack(event, settings) {
  const endpoint = 'https://example.com/collect'; // replace with your endpoint
  let response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${btoa(settings.apiKey + ':')}`,
        'Content-Type': 'application/json'
      },
      body: JSON.stringify(event)
    });
  } catch (error) {
    // A connection error is worth another try.
    throw new RetryError(error.message);
  }
  if (response.status >= 500 || response.status === 429) {
    // Server errors and rate limits are worth another try too.
    throw new RetryError(`Failed with ${response.status}`);
  }
}
""" + "".join(
    "\n"
    + DESTINATION_HANDLER.format(handler=handler, kind=kind, an="n" if kind[0] in "aeiou" else "")
    for kind, handler in HANDLER_BY_EVENT_TYPE.items()
    if kind != "track"
)

INSERT_DEFAULT = """\
// Insert functions sit in front of a destination: return the event, changed or not,
// to pass it on; throw DropEvent to drop it. A missing handler blocks that event type.

async function onTrack(event, settings) {
  return event;
}

async function onIdentify(event, settings) {
  return event;
}

async function onPage(event, settings) {
  return event;
}

async function onScreen(event, settings) {
  return event;
}

async function onGroup(event, settings) {
  return event;
}

async function onAlias(event, settings) {
  return event;
}

async function onDelete(event, settings) {
  return event;
}
"""

DESTINATION_BATCH = """\
// Batch destinations receive up to 20 events at a time (or what arrived within 10 s).
// Return one status per event, in order, to retry only the events that failed.

async function onBatch(events, settings) {
  const response = await fetch('https://example.com/batch', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ batch: events })
  });
  if (response.status >= 500 || response.status === 429) {
    throw new RetryError(`Failed with ${response.status}`);
  }
}

// Single-event handlers are the fallback when too few events arrive to batch.
async function onTrack(event, settings) {
  return onBatch([event], settings);
}
"""

SOURCE_WEBHOOK_TO_TRACK = """\
// Turns each item of a webhook's `events` array into a track call.

async function onRequest(request, settings) {
  const body = request.json();
  const events = Array.isArray(body.events) ? body.events : [body];
  for (const item of events) {
    if (!item.type) {
      throw new ValidationError('every event needs a type');
    }
    Segment.track({
      event: _.startCase(item.type),
      userId: String(item.user_id || item.userId || 'unknown'),
      properties: _.omit(item, ['type', 'user_id', 'userId']),
      timestamp: item.created_at
    });
  }
}
"""

INSERT_DROP_INTERNAL = """\
// Drops events from internal test users and removes an e-mail address from every other.

async function onTrack(event, settings) {
  if (String(event.userId || '').startsWith('test-')) {
    throw new DropEvent('internal test user');
  }
  return _.omit(event, ['properties.email', 'context.traits.email']);
}

async function onIdentify(event, settings) {
  return _.omit(event, ['traits.email']);
}
"""

STARTERS: tuple[Starter, ...] = (
    Starter(
        "source-default",
        "Default Source",
        "Parse a webhook body and emit a track event.",
        ResourceType.SOURCE,
        SOURCE_DEFAULT,
        is_default=True,
    ),
    Starter(
        "source-webhook-to-track",
        "Webhook to Track",
        "Turn each item of a webhook's event list into a track call.",
        ResourceType.SOURCE,
        SOURCE_WEBHOOK_TO_TRACK,
    ),
    Starter(
        "destination-default",
        "Default Destination",
        "Forward track events to an HTTP endpoint, retrying on 5xx and 429.",
        ResourceType.DESTINATION,
        DESTINATION_DEFAULT,
        is_default=True,
    ),
    Starter(
        "destination-batch",
        "Default Batch",
        "Send events in batches with onBatch, with a single-event fallback.",
        ResourceType.DESTINATION,
        DESTINATION_BATCH,
    ),
    Starter(
        "insert-default",
        "Default Insert",
        "Pass every event type through unchanged.",
        ResourceType.INSERT_DESTINATION,
        INSERT_DEFAULT,
        is_default=True,
    ),
    Starter(
        "insert-drop-internal",
        "Drop Test Users",
        "Drop events from test users and strip e-mail addresses.",
        ResourceType.INSERT_DESTINATION,
        INSERT_DROP_INTERNAL,
    ),
)


STARTERS += tuple(
    Starter(slug, name, description, resource_type, code, False, tuple(settings), payloads)
    for slug, name, description, resource_type, code, settings, payloads in LIBRARY
)
STARTERS_BY_SLUG = {starter.slug: starter for starter in STARTERS}


def starters_for(resource_type: str) -> list[Starter]:
    """The starters for one function type, the default first."""
    return sorted(
        (s for s in STARTERS if s.resource_type == resource_type), key=lambda s: not s.is_default
    )


def default_code(resource_type: str) -> str:
    return starters_for(resource_type)[0].code

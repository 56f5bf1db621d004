"""Starter templates drawn from real use, each with test payloads to try it on.

A setting's `example` is the test value its payloads run with (never a real credential).

Each one is the code a team writes first for a well-known tool: the webhook sources of Stripe,
Zendesk and Typeform; the Slack, HubSpot and Mailchimp destinations, a generic webhook relay and
a batch warehouse loader; a PII scrubber in front of any destination. Their settings are read
from `settings` by name; add them in the Settings tab (names in each template's header).
"""

from __future__ import annotations

import json
from typing import Any

from catalog.models import ResourceType

STRIPE_SOURCE = """\
// Stripe webhooks -> Segment. Settings: none.
// Payments become track events; new customers are identified by their Stripe id.

async function onRequest(request, settings) {
  const event = request.json();
  const object = (event.data && event.data.object) || {};
  if (event.type === 'customer.created') {
    Segment.identify({
      userId: object.id,
      traits: { email: object.email, name: object.name, createdAt: new Date(object.created * 1000).toISOString() },
    });
    return;
  }
  const names = {
    'charge.succeeded': 'Payment Succeeded',
    'charge.failed': 'Payment Failed',
    'invoice.paid': 'Invoice Paid',
    'customer.subscription.deleted': 'Subscription Cancelled',
  };
  if (!names[event.type]) return; // other Stripe events are not tracked
  Segment.track({
    event: names[event.type],
    userId: object.customer || 'anonymous',
    properties: {
      amount: (object.amount || object.amount_paid || 0) / 100,
      currency: (object.currency || 'usd').toUpperCase(),
      stripeEventId: event.id,
    },
  });
}
"""

ZENDESK_SOURCE = """\
// Zendesk ticket webhooks -> Segment. Settings: none.
// Each ticket change is a track event on the requester; the requester is identified too.

async function onRequest(request, settings) {
  const body = request.json();
  const ticket = body.ticket;
  if (!ticket) throw new ValidationError('The body has no ticket.');
  const requester = ticket.requester || {};
  const userId = String(requester.id || ticket.requester_id || 'unknown');
  Segment.identify({ userId, traits: { email: requester.email, name: requester.name } });
  Segment.track({
    event: body.type === 'ticket.created' ? 'Ticket Created' : 'Ticket Updated',
    userId,
    properties: { ticketId: ticket.id, subject: ticket.subject, status: ticket.status, priority: ticket.priority },
  });
}
"""

TYPEFORM_SOURCE = """\
// Typeform responses -> Segment. Settings: none.
// Each response is a "Form Submitted" event; answers become properties by field ref.

async function onRequest(request, settings) {
  const response = request.json().form_response;
  if (!response) throw new ValidationError('Not a Typeform response.');
  const answers = {};
  for (const answer of response.answers || []) {
    answers[answer.field.ref] = answer[answer.type];
  }
  Segment.track({
    event: 'Form Submitted',
    anonymousId: response.token,
    properties: { formId: response.form_id, submittedAt: response.submitted_at, ...answers },
  });
}
"""

SLACK_DESTINATION = """\
// Post chosen events to a Slack channel. Settings: webhookUrl (sensitive), events (Array).

async function onTrack(event, settings) {
  const wanted = settings.events || [];
  if (wanted.length && !wanted.includes(event.event)) {
    throw new EventNotSupported(`${event.event} is not posted to Slack`);
  }
  const who = event.userId || event.anonymousId;
  const response = await fetch(settings.webhookUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ text: `*${event.event}* by ${who}`, blocks: undefined }),
  });
  if (response.status >= 500 || response.status === 429) throw new RetryError(`Slack answered ${response.status}`);
  if (!response.ok) throw new ValidationError(`Slack refused the message: ${response.status}`);
}
"""

HUBSPOT_DESTINATION = """\
// Keep HubSpot contacts up to date. Settings: accessToken (sensitive).

async function onIdentify(event, settings) {
  const email = event.traits && event.traits.email;
  if (!email) throw new ValidationError('An identify without traits.email cannot match a contact.');
  const response = await fetch(
    `https://api.hubapi.com/crm/v3/objects/contacts/${encodeURIComponent(email)}?idProperty=email`,
    {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${settings.accessToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        properties: { firstname: event.traits.firstName, lastname: event.traits.lastName, company: event.traits.company },
      }),
    },
  );
  if (response.status >= 500 || response.status === 429) throw new RetryError(`HubSpot answered ${response.status}`);
  if (!response.ok) throw new ValidationError(`HubSpot refused the contact: ${response.status}`);
}
"""

MAILCHIMP_DESTINATION = """\
// Subscribe identified users to a Mailchimp audience.
// Settings: apiKey (sensitive, ends in -us21 or your data centre), audienceId.

async function onIdentify(event, settings) {
  const email = event.traits && event.traits.email;
  if (!email) throw new EventNotSupported('No e-mail address to subscribe.');
  const dataCentre = String(settings.apiKey).split('-').pop();
  const response = await fetch(`https://${dataCentre}.api.mailchimp.com/3.0/lists/${settings.audienceId}/members`, {
    method: 'POST',
    headers: { Authorization: `Basic ${btoa('any:' + settings.apiKey)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email_address: email, status: 'subscribed', merge_fields: { FNAME: event.traits.firstName || '' } }),
  });
  if (response.status >= 500) throw new RetryError(`Mailchimp answered ${response.status}`);
  if (!response.ok && response.status !== 400) throw new ValidationError(`Mailchimp refused: ${response.status}`);
}
"""

WEBHOOK_RELAY_DESTINATION = """\
// Relay every event, as it is, to your own endpoint. Settings: url, sharedSecret (sensitive).

async function relay(event, settings) {
  const response = await fetch(settings.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Relay-Secret': settings.sharedSecret },
    body: JSON.stringify(event),
  });
  if (response.status >= 500 || response.status === 429) throw new RetryError(`The endpoint answered ${response.status}`);
  if (!response.ok) throw new ValidationError(`The endpoint refused the event: ${response.status}`);
}

const onTrack = relay;
const onIdentify = relay;
const onPage = relay;
const onGroup = relay;
"""

WAREHOUSE_BATCH_DESTINATION = """\
// Load events into a warehouse in batches, as newline-delimited JSON.
// Settings: loaderUrl, token (sensitive).

async function onBatch(events, settings) {
  const rows = events.map((event) =>
    JSON.stringify({
      message_id: event.messageId,
      type: event.type,
      event: event.event || null,
      user_id: event.userId || null,
      received_at: event.receivedAt,
      properties: event.properties || event.traits || {},
    }),
  );
  const response = await fetch(settings.loaderUrl, {
    method: 'POST',
    headers: { Authorization: `Bearer ${settings.token}`, 'Content-Type': 'application/x-ndjson' },
    body: rows.join('\\n'),
  });
  if (response.status >= 500 || response.status === 429) throw new RetryError(`The loader answered ${response.status}`);
  if (!response.ok) throw new ValidationError(`The loader refused the batch: ${response.status}`);
}
"""

PII_SCRUBBER_INSERT = """\
// Scrub personal data before events leave: e-mail addresses are hashed (joins still work),
// phone numbers and IP addresses removed. Settings: none.

async function hashed(value) {
  const bytes = new TextEncoder().encode(String(value).trim().toLowerCase());
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function scrub(event) {
  for (const bag of [event.properties, event.traits, event.context && event.context.traits]) {
    if (!bag) continue;
    if (bag.email) bag.email = await hashed(bag.email);
    delete bag.phone;
  }
  if (event.context) delete event.context.ip;
  return event;
}

const onTrack = scrub;
const onIdentify = scrub;
const onPage = scrub;
"""


def _track(event: str, **properties: Any) -> dict[str, Any]:
    return {"type": "track", "event": event, "userId": "user-1234", "properties": properties}


def _identify(**traits: Any) -> dict[str, Any]:
    return {"type": "identify", "userId": "user-1234", "traits": traits}


def _webhook(body: dict[str, Any]) -> dict[str, Any]:
    return {"headers": {"Content-Type": "application/json"}, "body": json.dumps(body), "query": ""}


# (slug, name, description, resource type, code, settings, test payloads: (name, data))
LIBRARY: tuple[
    tuple[str, str, str, str, str, list[dict[str, Any]], tuple[tuple[str, Any], ...]], ...
] = (
    (
        "source-stripe",
        "Stripe Payments",
        "Stripe webhooks: payments as track events, new customers identified.",
        ResourceType.SOURCE,
        STRIPE_SOURCE,
        [],
        (
            (
                "Charge succeeded",
                _webhook(
                    {
                        "id": "evt_1",
                        "type": "charge.succeeded",
                        "data": {
                            "object": {"customer": "cus_9", "amount": 4200, "currency": "eur"}
                        },
                    }
                ),
            ),
            (
                "Customer created",
                _webhook(
                    {
                        "id": "evt_2",
                        "type": "customer.created",
                        "data": {
                            "object": {
                                "id": "cus_9",
                                "email": "ann@example.com",
                                "name": "Ann",
                                "created": 1767225600,
                            }
                        },
                    }
                ),
            ),
        ),
    ),
    (
        "source-zendesk",
        "Zendesk Tickets",
        "Zendesk ticket webhooks: a track event per ticket change, the requester identified.",
        ResourceType.SOURCE,
        ZENDESK_SOURCE,
        [],
        (
            (
                "Ticket created",
                _webhook(
                    {
                        "type": "ticket.created",
                        "ticket": {
                            "id": 512,
                            "subject": "Cannot log in",
                            "status": "new",
                            "priority": "high",
                            "requester": {"id": 77, "email": "bo@example.com", "name": "Bo"},
                        },
                    }
                ),
            ),
        ),
    ),
    (
        "source-typeform",
        "Typeform Responses",
        "Typeform responses as Form Submitted events, answers as properties.",
        ResourceType.SOURCE,
        TYPEFORM_SOURCE,
        [],
        (
            (
                "Survey answered",
                _webhook(
                    {
                        "form_response": {
                            "form_id": "lT4Z3j",
                            "token": "a3a12ec67a1365927098a606107fac15",
                            "submitted_at": "2026-11-30T10:00:00Z",
                            "answers": [
                                {"type": "number", "number": 9, "field": {"ref": "nps"}},
                                {"type": "text", "text": "Fast!", "field": {"ref": "comment"}},
                            ],
                        }
                    }
                ),
            ),
        ),
    ),
    (
        "destination-slack",
        "Slack Notifications",
        "Post chosen track events to a Slack channel through an incoming webhook.",
        ResourceType.DESTINATION,
        SLACK_DESTINATION,
        [
            {
                "name": "webhookUrl",
                "label": "Webhook URL",
                "type": "STRING",
                "required": True,
                "sensitive": True,
                "description": "Slack's incoming webhook URL.",
                "example": "https://hooks.slack.com/services/T000/B000/XXXX",
            },
            {
                "name": "events",
                "label": "Events",
                "type": "ARRAY",
                "required": False,
                "sensitive": False,
                "description": "Only these events (all when empty).",
            },
        ],
        (("Order completed", _track("Order Completed", total=42.5, currency="EUR")),),
    ),
    (
        "destination-hubspot",
        "HubSpot Contacts",
        "Update HubSpot contacts from identify calls, matched by e-mail.",
        ResourceType.DESTINATION,
        HUBSPOT_DESTINATION,
        [
            {
                "name": "accessToken",
                "label": "Access Token",
                "type": "STRING",
                "required": True,
                "sensitive": True,
                "description": "A private app's access token.",
            },
        ],
        (
            ("Known contact", _identify(email="ann@example.com", firstName="Ann", company="Acme")),
            ("No e-mail", _identify(firstName="Nobody")),
        ),
    ),
    (
        "destination-mailchimp",
        "Mailchimp Audience",
        "Subscribe identified users to a Mailchimp audience.",
        ResourceType.DESTINATION,
        MAILCHIMP_DESTINATION,
        [
            {
                "name": "apiKey",
                "label": "API Key",
                "type": "STRING",
                "required": True,
                "sensitive": True,
                "description": "Ends in your data centre, e.g. -us21.",
            },
            {
                "name": "audienceId",
                "label": "Audience ID",
                "type": "STRING",
                "required": True,
                "sensitive": False,
                "description": "",
            },
        ],
        (("New subscriber", _identify(email="cy@example.com", firstName="Cy")),),
    ),
    (
        "destination-webhook-relay",
        "Webhook Relay",
        "Relay every event as it is to your own endpoint, with a shared secret header.",
        ResourceType.DESTINATION,
        WEBHOOK_RELAY_DESTINATION,
        [
            {
                "name": "url",
                "label": "URL",
                "type": "STRING",
                "required": True,
                "sensitive": False,
                "description": "Where events are posted.",
                "example": "https://example.com/events",
            },
            {
                "name": "sharedSecret",
                "label": "Shared Secret",
                "type": "STRING",
                "required": True,
                "sensitive": True,
                "description": "Sent as X-Relay-Secret.",
            },
        ],
        (
            ("Track", _track("Signed Up", plan="pro")),
            ("Identify", _identify(email="dee@example.com")),
        ),
    ),
    (
        "destination-warehouse-batch",
        "Warehouse Batch Loader",
        "Load events into a warehouse in batches, as newline-delimited JSON.",
        ResourceType.DESTINATION,
        WAREHOUSE_BATCH_DESTINATION,
        [
            {
                "name": "loaderUrl",
                "label": "Loader URL",
                "type": "STRING",
                "required": True,
                "sensitive": False,
                "description": "",
                "example": "https://loader.example.com/batches",
            },
            {
                "name": "token",
                "label": "Token",
                "type": "STRING",
                "required": True,
                "sensitive": True,
                "description": "",
            },
        ],
        (
            (
                "Batch of two",
                [_track("Order Completed", total=10), _identify(email="ed@example.com")],
            ),
        ),
    ),
    (
        "insert-pii-scrubber",
        "PII Scrubber",
        "Hash e-mail addresses, remove phone numbers and IP addresses before events leave.",
        ResourceType.INSERT_DESTINATION,
        PII_SCRUBBER_INSERT,
        [],
        (
            (
                "Order with personal data",
                {
                    **_track("Order Completed", email="Ann@Example.com", phone="+44 20 7946 0000"),
                    "context": {"ip": "203.0.113.7"},
                },
            ),
        ),
    ),
)

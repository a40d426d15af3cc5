"""Telephony: Twilio webhooks and signatures, TwiML, carriers (Twilio REST, loopback), Media Streams protocol.

- :mod:`telephony.media_stream` — the Media Streams wire protocol and :class:`MediaStreamClient` (Twilio's end)
- :mod:`telephony.signature` — ``X-Twilio-Signature`` checks (FastAPI dependency ``twilio_form``)
- :mod:`telephony.twiml` — ``<Connect><Stream>`` and ``<Dial>``
- :mod:`telephony.carrier` / :mod:`telephony.twilio_carrier` / :mod:`telephony.loopback` — placing calls
- :mod:`telephony.status` — call status changes to ``state.services["call_status_listeners"]``
- :mod:`telephony.phone_numbers` — masking of phone numbers for logs and records

The app's start-up of this area (settings, ``state.services["carrier"]``) is :mod:`api.twilio.lifespan`.
"""

"""Telephony: Twilio webhooks and signatures, TwiML, carriers (Twilio REST, loopback), Media Streams protocol.

- :mod:`telephony.media_stream` — the Media Streams wire protocol and :class:`MediaStreamClient` (Twilio's end)
- :mod:`telephony.signature` — ``X-Twilio-Signature`` checks (pure; the app answers a refusal with 403)
- :mod:`telephony.twiml` — ``<Connect><Stream>`` and ``<Dial>``
- :mod:`telephony.carrier` / :mod:`telephony.twilio_carrier` / :mod:`telephony.loopback` — placing calls
- :mod:`telephony.status` — call status changes to the listeners of a :class:`~telephony.status.StatusBus`
- :mod:`telephony.phone_numbers` — masking of phone numbers for logs and records

The app's start-up of this area (settings, stream tokens, status bus, carrier) is :mod:`api.twilio.lifespan`.
"""

"""Telephony: Twilio webhooks and signatures, TwiML, carriers (Twilio REST, loopback), Media Streams protocol.

- :mod:`telephony.media_stream` — the Media Streams wire protocol, both ways
- :mod:`telephony.audio_codec` — G.711 μ-law <-> 16-bit PCM and resampling (the line's audio format)
- :mod:`telephony.signature` — ``X-Twilio-Signature`` checks (pure; the app answers a refusal with 403)
- :mod:`telephony.twiml` — ``<Connect><Stream>`` and ``<Dial>``
- :mod:`telephony.carrier` / :mod:`telephony.twilio_carrier` / :mod:`telephony.loopback` — placing calls (the
  loopback carrier's far end, the simulated party, is injected: :mod:`simulation.far_end`)
- :mod:`telephony.status` — call status changes to the listeners of a :class:`~telephony.status.StatusBus`
- :mod:`telephony.phone_numbers` — masking of phone numbers for logs and records

The app's start-up of this area (settings, stream tokens, status bus, carrier) is :mod:`api.twilio.lifespan`.
"""

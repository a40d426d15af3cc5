"""Simulation: the far end of a phone call, for the loopback carrier, replays, tests and benchmarks.

Above ``pipelines`` (it speaks with the local Piper voice); nothing in ``agent``, ``telephony`` or ``pipelines``
imports it, and the app only injects it into the loopback carrier.

- :mod:`simulation.media_stream_client` — :class:`MediaStreamClient`, Twilio's end of a media stream
- :mod:`simulation.far_end` — :class:`SimulatedFarEnd`, the party side of the loopback carrier's calls
- :mod:`simulation.scripted_party` — :class:`ScriptedParty`, a scenario's ``party:`` turns played on a call
- :mod:`simulation.impairments` — line noise, dropped frames and jitter of a simulated phone line
- :mod:`simulation.inbound_call` — a call to our number over HTTP, as Twilio places it (signed webhook + stream)
"""

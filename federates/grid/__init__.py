"""Grid side: network loading, power flow, grid controls, events, frequency."""

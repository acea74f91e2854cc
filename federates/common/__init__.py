"""Pieces shared by every federate: the HELICS loop, the recorder, the time grid."""

"""AI-factory load, BESS and controls (pure models) and their HELICS adapter."""

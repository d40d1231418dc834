"""The SMS channel: results by text message over SMPP, and alerts at publication."""

"""Tests of the SMS channel's text side (videotex.sms.text): parsing, wording, encoding."""

"""api/twilio"""

"""api/chat"""

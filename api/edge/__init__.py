"""api/edge"""

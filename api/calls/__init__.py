"""api/calls"""

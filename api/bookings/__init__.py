"""api/bookings"""

"""A test app for nested paths in the admin's list: trips with a stop and stops."""
from core.registry import App


class TripsDemoApp(App):
    label = "trips"
    verbose_name = "Trips"
    models = "trips_demo.models"

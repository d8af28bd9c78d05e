from core.registry import App


class DeskApp(App):
    label = "desk"
    verbose_name = "Desk"
    models = "desk_demo.models"

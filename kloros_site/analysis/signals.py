from django.dispatch import Signal

# sent after the commit that recorded them; `transition_ids` are Transition primary keys
questions_changed = Signal()

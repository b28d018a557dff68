from django.dispatch import receiver

from kloros_site.analysis import relay
from kloros_site.analysis.signals import questions_changed


@receiver(questions_changed)
def publish_transitions(sender, transition_ids: list[int], **kwargs) -> None:
    if not relay.publish_ids(transition_ids):
        relay.retry_loop.wake()

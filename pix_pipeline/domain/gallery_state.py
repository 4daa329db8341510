"""The customer gallery's life cycle: which event may move it from which state to which.

A state is (gallery_status, gallery_visibility). Only RELEASE makes a gallery visible to the
customer, and only `release_gallery` sends it; every other pair of state and event that is
not in TRANSITIONS is refused. The registry applies a transition as a compare-and-set on both
columns, so two writers cannot both move the same gallery.
"""

from enum import StrEnum

from pix_pipeline.domain.models import GalleryStatus, GalleryVisibility

GalleryState = tuple[GalleryStatus, GalleryVisibility]


class GalleryEvent(StrEnum):
    DRAFT_SYNCED = "draft_synced"  # the pipeline put processed images into the draft gallery
    DRAFT_EMPTIED = "draft_emptied"  # the draft holds no processed image any more
    CHANGES_PENDING = "changes_pending"  # a released gallery differs from the pipeline's output
    CHANGES_CLEARED = "changes_cleared"  # ... and no longer does
    RELEASE = "release"  # Daniel's release_gallery run
    REVOKE = "revoke"  # Daniel's revoke_gallery run


EMPTY: GalleryState = (GalleryStatus.NONE, GalleryVisibility.INTERNAL)
DRAFT: GalleryState = (GalleryStatus.DRAFT_READY, GalleryVisibility.INTERNAL)
RELEASED: GalleryState = (GalleryStatus.DRAFT_READY, GalleryVisibility.CUSTOMER)
RELEASED_PENDING: GalleryState = (GalleryStatus.UPDATE_PENDING, GalleryVisibility.CUSTOMER)
STATES = (EMPTY, DRAFT, RELEASED, RELEASED_PENDING)

TRANSITIONS: dict[tuple[GalleryState, GalleryEvent], GalleryState] = {
    (EMPTY, GalleryEvent.DRAFT_SYNCED): DRAFT,
    (EMPTY, GalleryEvent.DRAFT_EMPTIED): EMPTY,
    (DRAFT, GalleryEvent.DRAFT_SYNCED): DRAFT,
    (DRAFT, GalleryEvent.DRAFT_EMPTIED): EMPTY,
    (DRAFT, GalleryEvent.RELEASE): RELEASED,
    (RELEASED, GalleryEvent.CHANGES_PENDING): RELEASED_PENDING,
    (RELEASED, GalleryEvent.CHANGES_CLEARED): RELEASED,
    (RELEASED, GalleryEvent.REVOKE): DRAFT,
    (RELEASED_PENDING, GalleryEvent.CHANGES_PENDING): RELEASED_PENDING,
    (RELEASED_PENDING, GalleryEvent.CHANGES_CLEARED): RELEASED,
    (RELEASED_PENDING, GalleryEvent.RELEASE): RELEASED,
    (RELEASED_PENDING, GalleryEvent.REVOKE): DRAFT,
}


class IllegalTransition(ValueError):
    """The event is not allowed in the gallery's current state."""


class ConcurrentTransition(RuntimeError):
    """Another writer moved the gallery between reading and writing its state."""


def parse_state(status: str, visibility: str) -> GalleryState:
    try:
        state = (GalleryStatus(status), GalleryVisibility(visibility))
    except ValueError:
        raise IllegalTransition(f"unknown gallery state {status}/{visibility}") from None
    if state not in STATES:
        raise IllegalTransition(f"unknown gallery state {status}/{visibility}")
    return state


def next_state(state: GalleryState, event: GalleryEvent) -> GalleryState:
    """Where `event` takes a gallery in `state`; IllegalTransition when it may not happen."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        status, visibility = state
        raise IllegalTransition(
            f"a gallery that is {status.value}/{visibility.value} cannot take the event"
            f" {event.value!r}"
        ) from None

"""Tags, taggings, the feed note and comments. Callers have checked access through feeds.selectors."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from ..models import Comment, Feed, Note, Tag, Tagging


def require_object(data: Any) -> None:
    """A body that is not an object (a JSON array, a bare value) is a 400, not an empty change."""
    if not hasattr(data, "get"):
        raise ValidationError({"detail": ["The request body must be an object of fields."]})


def _text(data: Any, name: str, max_length: int | None, required: bool) -> str | None:
    value = data.get(name) if hasattr(data, "get") else None
    if value is None:
        if required:
            raise ValidationError({name: ["This field is required."]})
        return None
    if not isinstance(value, str):
        raise ValidationError({name: ["Not a valid string."]})
    if required and not value.strip():
        raise ValidationError({name: ["This field may not be blank."]})
    if max_length is not None and len(value) > max_length:
        raise ValidationError({name: [f"Ensure this field has no more than {max_length} characters."]})
    return value


def _id(data: Any, name: str) -> int:
    value = data.get(name) if hasattr(data, "get") else None
    if value in (None, ""):
        raise ValidationError({name: ["This field is required."]})
    if isinstance(value, bool):
        raise ValidationError({name: ["A valid integer is required."]})
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: ["A valid integer is required."]}) from None


def input_id(data: Any, name: str) -> int:
    """An integer id field of a request body, or a 400 naming the field."""
    return _id(data, name)


def tag_create(*, owner: Any, data: Any) -> Tag:
    require_object(data)
    name = _text(data, "name", 100, required=True)
    color = _text(data, "color", 20, required=True)
    return Tag.objects.create(owner=owner, name=name, color=color)


def tag_update(*, tag: Tag, data: Any) -> Tag:
    require_object(data)
    changes = {k: v for k, v in (("name", _text(data, "name", 100, False)),
                                 ("color", _text(data, "color", 20, False))) if v is not None}
    for key, value in changes.items():
        if not value.strip():
            raise ValidationError({key: ["This field may not be blank."]})
        setattr(tag, key, value)
    if changes:
        tag.save(update_fields=list(changes))
    return tag


def tag_delete(*, tag: Tag) -> None:
    tag.delete()  # its taggings go with it


def tagging_create(*, tag: Tag, feed: Feed) -> Tagging:
    try:
        with transaction.atomic():
            return Tagging.objects.create(tag=tag, feed=feed)
    except IntegrityError:
        raise ValidationError({"non_field_errors": [f"Feed {feed.id} already carries tag {tag.id}."]}) from None


def tagging_delete(*, tagging: Tagging) -> None:
    tagging.delete()


def note_create(*, feed: Feed) -> Note:
    return Note.objects.create(feed=feed)


def note_update(*, note: Note, data: Any) -> Note:
    require_object(data)
    changes = {k: v for k, v in (("title", _text(data, "title", 100, False)),
                                 ("content", _text(data, "content", None, False))) if v is not None}
    for key, value in changes.items():
        setattr(note, key, value)
    if changes:
        note.save(update_fields=list(changes))
    return note


def comment_create(*, feed: Feed, owner: Any, data: Any) -> Comment:
    require_object(data)
    title = _text(data, "title", 100, False) or ""
    content = _text(data, "content", None, False) or ""
    return Comment.objects.create(feed=feed, owner=owner, title=title, content=content)


def comment_update(*, comment: Comment, data: Any) -> Comment:
    require_object(data)
    changes = {k: v for k, v in (("title", _text(data, "title", 100, False)),
                                 ("content", _text(data, "content", None, False))) if v is not None}
    for key, value in changes.items():
        setattr(comment, key, value)
    if changes:
        comment.save(update_fields=list(changes))
    return comment


def comment_delete(*, comment: Comment) -> None:
    comment.delete()

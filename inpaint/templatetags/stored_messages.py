"""The ``translated`` filter: a message the worker stored on a job, in the reader's language (inpaint.stored_messages)."""

from django import template

from inpaint.stored_messages import stored_translate

register = template.Library()
register.filter("translated", stored_translate)

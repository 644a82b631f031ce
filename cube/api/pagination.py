"""Limit/offset pagination as CUBE: count/next/previous/results, PAGE_SIZE 10."""

from __future__ import annotations

from rest_framework import pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    max_limit = 1000

"""The demo shop (tracking.demo_shop): the page the demo's tracking links land on."""

from django.urls import path

from .demo_shop import demo_shop

urlpatterns = [path("demo/shop/", demo_shop, name="demo_shop")]

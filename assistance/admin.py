from django.contrib import admin

from .models import Measure


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = ["case", "measure_type", "status", "starts_on", "ends_on", "amount"]
    list_filter = ["measure_type", "status"]
    raw_id_fields = ["case"]

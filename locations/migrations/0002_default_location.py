"""The upgrade from a single space: today's machines, classes and members move into one default
location, named after the space (SPACE_NAME) and in its time zone (TIME_ZONE); each distinct
free-text machine area becomes an Area of it. A fresh install with nothing to move gets no location
here (the first machine or class creates the default one)."""

from django.conf import settings
from django.db import migrations
from django.utils.text import slugify


def _unique_slug(taken: set[str], text: str, fallback: str) -> str:
    base = slugify(text)[:45] or fallback
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def move_into_default_location(apps, schema_editor):
    Location = apps.get_model("locations", "Location")
    Area = apps.get_model("locations", "Area")
    Machine = apps.get_model("equipment", "Machine")
    ClassSeries = apps.get_model("training", "ClassSeries")
    ClassSession = apps.get_model("training", "ClassSession")
    Member = apps.get_model("membership", "Member")
    has_data = (
        Machine.objects.exists()
        or ClassSession.objects.exists()
        or ClassSeries.objects.exists()
        or Member.objects.exists()
    )
    if not has_data:
        return
    location = Location.objects.order_by("pk").first()
    if location is None:
        location = Location.objects.create(
            name=settings.SPACE_NAME[:100],
            slug=slugify(settings.SPACE_NAME)[:50] or "main",
            time_zone=settings.TIME_ZONE,
        )
    taken = set(Area.objects.filter(location=location).values_list("slug", flat=True))
    areas = {}
    for text in Machine.objects.exclude(area="").values_list("area", flat=True).distinct():
        name = text.strip()[:100]
        if not name:
            continue
        key = name.casefold()
        if key not in areas:
            area = Area.objects.filter(location=location, name__iexact=name).first()
            areas[key] = area or Area.objects.create(
                location=location, name=name, slug=_unique_slug(taken, name, "area")
            )
        Machine.objects.filter(area=text).update(area_ref=areas[key])
    Machine.objects.filter(location__isnull=True).update(location=location)
    ClassSeries.objects.filter(location__isnull=True).update(location=location)
    ClassSession.objects.filter(location__isnull=True).update(location=location)
    Member.objects.filter(home_location__isnull=True).update(home_location=location)


def back_to_free_text(apps, schema_editor):
    Machine = apps.get_model("equipment", "Machine")
    for machine in Machine.objects.filter(area_ref__isnull=False).select_related("area_ref"):
        machine.area = machine.area_ref.name
        machine.save(update_fields=["area"])


class Migration(migrations.Migration):
    dependencies = [
        ("locations", "0001_initial"),
        ("equipment", "0003_machine_required_checkout"),
        ("training", "0003_locations"),
        ("membership", "0004_locations"),
    ]

    operations = [migrations.RunPython(move_into_default_location, back_to_free_text)]

import uuid

from django.db import migrations, models


def give_each_site_its_own_uid(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    for site in Site.objects.only("pk").iterator():
        Site.objects.filter(pk=site.pk).update(uid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("sites", "0003_domain")]

    operations = [
        migrations.AddField(
            model_name="site", name="uid", field=models.UUIDField(null=True, editable=False)
        ),
        migrations.RunPython(give_each_site_its_own_uid, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="site",
            name="uid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]

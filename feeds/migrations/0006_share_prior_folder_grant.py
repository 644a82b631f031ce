"""Shares remember the folder grant they made or raised, so revoking one restores what was there before.

Shares made before this migration record the grant they hold now and no prior permission: revoking
them deletes the grant, as it always did (what was there before them is not known any more)."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def record_current_grants(apps, schema_editor):
    for share_name, grant_name, kind in (("FeedUserPermission", "FolderUserPermission", "user"),
                                         ("FeedGroupPermission", "FolderGroupPermission", "group")):
        share = apps.get_model("feeds", share_name)
        grant = apps.get_model("uploads", grant_name)
        # One UPDATE per table whatever the number of shares.
        share.objects.update(folder_grant_pk=Subquery(grant.objects.filter(
            folder__feed=OuterRef("feed_id"), **{f"{kind}_id": OuterRef(f"{kind}_id")}).values("id")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ('feeds', '0005_splits'),
        ('uploads', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='feedgrouppermission',
            name='folder_grant_pk',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='feedgrouppermission',
            name='prior_folder_permission',
            field=models.CharField(blank=True, choices=[('r', 'Read'), ('w', 'Write')], max_length=1, null=True),
        ),
        migrations.AddField(
            model_name='feeduserpermission',
            name='folder_grant_pk',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='feeduserpermission',
            name='prior_folder_permission',
            field=models.CharField(blank=True, choices=[('r', 'Read'), ('w', 'Write')], max_length=1, null=True),
        ),
        migrations.RunPython(record_current_grants, migrations.RunPython.noop),
    ]

"""The "Compliance reviewers" group with the model permissions the review needs in the admin.

Which tenants a member reviews is a per-tenant object permission (`grant_reviewer USER TENANT`).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

REVIEWER_GROUP = "Compliance reviewers"
CODENAMES = (
    "view_answerrecord",
    "view_answerclaim",
    "view_answercitation",
    "view_legalhold",
    "view_retentionpolicy",
    "view_purgerun",
    "view_auditevent",
)


def create_group(apps, schema_editor):
    # Permissions are made after migrate (post_migrate); on a fresh database make governance's now.
    governance = apps.get_app_config("governance")
    governance.models_module = True
    create_permissions(governance, apps=apps, verbosity=0)
    governance.models_module = None
    Group, Permission = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=REVIEWER_GROUP)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="governance", codename__in=CODENAMES))


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=REVIEWER_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0003_retention_holds_audit_pii_rate_plans"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]

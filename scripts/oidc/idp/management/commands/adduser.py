"""manage.py adduser USERNAME PASSWORD [--groups g1,g2] [--email E] [--name "Full Name"]: creates
(or resets) a Django user, member of exactly those groups."""
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("password")
        parser.add_argument("--groups", default="", help="comma-separated group names")
        parser.add_argument("--email", default="")
        parser.add_argument("--name", default="", help='"Given Family": the first word is given_name')

    def handle(self, username, password, groups, email, name, **options):
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.email = email
        user.first_name, _, user.last_name = name.strip().partition(" ")
        user.is_active = True
        user.save()
        names = [g.strip() for g in groups.split(",") if g.strip()]
        user.groups.set([Group.objects.get_or_create(name=g)[0] for g in names])

from django.urls import path, register_converter

from . import views
from .numbers import ProjectNumberConverter

register_converter(ProjectNumberConverter, "project_number")

urlpatterns = [
    path("projects/", views.ProjectListView.as_view(), name="project-list"),
    path("projects/<project_number:number>/", views.ProjectDetailView.as_view(), name="project-detail"),
    path("projects/<project_number:number>/edit/", views.ProjectUpdateView.as_view(), name="project-update"),
    path("projects/<project_number:number>/archive/", views.ProjectArchiveView.as_view(), name="project-archive"),
    path("projects/<project_number:number>/restore/", views.ProjectRestoreView.as_view(), name="project-restore"),
    path("projects/<project_number:number>/delete/", views.ProjectDeleteView.as_view(), name="project-delete"),
    path("projects/<project_number:number>/members/", views.ProjectMembersView.as_view(), name="project-members"),
    path(
        "projects/<project_number:number>/members/<id:grant_id>/",
        views.ProjectMemberChangeView.as_view(),
        name="project-member-change",
    ),
    path(
        "projects/<project_number:number>/members/<id:grant_id>/remove/",
        views.ProjectMemberRemoveView.as_view(),
        name="project-member-remove",
    ),
    path("o/<str:org>/projects/", views.OrganizationProjectListView.as_view(), name="organization-projects"),
    path("o/<str:org>/projects/new/", views.ProjectCreateView.as_view(), name="project-create"),
]

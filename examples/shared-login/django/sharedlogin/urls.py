from django.urls import path

from . import views

urlpatterns = [
    path('', views.page),
    path('whoami', views.whoami),
    path('login', views.login_view),
    path('logout', views.logout_view),
    path('counter', views.counter),
]

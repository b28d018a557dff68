from django.contrib import admin

from kloros_site.analysis.models import Question, SourceFile, Transition, Tree


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["hypothesis", "question", "severity", "status", "monitor", "opened_at", "updated_at"]
    list_filter = ["status", "monitor", "hypothesis", "severity", "tree"]
    search_fields = ["question", "qid", "capability_key"]
    readonly_fields = [f.name for f in Question._meta.fields]


@admin.register(SourceFile)
class SourceFileAdmin(admin.ModelAdmin):
    list_display = ["path", "status", "reason", "size", "analyzed_at", "duration_ms"]
    list_filter = ["status", "reason", "tree"]
    search_fields = ["path", "sha256"]
    readonly_fields = [f.name for f in SourceFile._meta.fields]


@admin.register(Transition)
class TransitionAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "signal", "question", "created_at", "published_at", "attempts"]
    list_filter = ["kind", "signal"]
    readonly_fields = [f.name for f in Transition._meta.fields]


admin.site.register(Tree)

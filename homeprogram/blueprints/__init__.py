"""Blueprints by audience and purpose."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from homeprogram.blueprints.admin.routes import bp as admin_bp
    from homeprogram.blueprints.api.routes import bp as api_bp
    from homeprogram.blueprints.auth.routes import bp as auth_bp
    from homeprogram.blueprints.caregiver.routes import bp as caregiver_bp
    from homeprogram.blueprints.core.routes import bp as core_bp
    from homeprogram.blueprints.teacher.routes import bp as teacher_bp
    from homeprogram.blueprints.therapist.program_views import bp as programs_bp
    from homeprogram.blueprints.therapist.routes import bp as therapist_bp

    for blueprint in (core_bp, auth_bp, admin_bp, therapist_bp, caregiver_bp, teacher_bp):
        app.register_blueprint(blueprint)

    from homeprogram.blueprints.library.routes import bp as library_bp

    app.register_blueprint(library_bp)
    app.register_blueprint(programs_bp)

    from homeprogram.blueprints.push.routes import bp as push_bp

    app.register_blueprint(push_bp)
    app.register_blueprint(api_bp)

    from homeprogram.blueprints.api_adherence.routes import bp as api_adherence_bp
    from homeprogram.blueprints.progress.routes import bp as progress_bp

    app.register_blueprint(progress_bp)
    app.register_blueprint(api_adherence_bp)

    from homeprogram.blueprints.account.routes import bp as account_bp

    app.register_blueprint(account_bp)

    from homeprogram.blueprints.passkeys.routes import bp as passkeys_bp

    app.register_blueprint(passkeys_bp)

    from homeprogram.blueprints.media.routes import bp as media_bp

    app.register_blueprint(media_bp)

    from homeprogram.blueprints.assessments.routes import bp as assessments_bp
    from homeprogram.blueprints.copm.routes import bp as copm_bp
    from homeprogram.blueprints.fhir.routes import bp as fhir_bp

    for blueprint in (copm_bp, assessments_bp, fhir_bp):
        app.register_blueprint(blueprint)

    from homeprogram.blueprints.levels.routes import bp as levels_bp

    app.register_blueprint(levels_bp)

    from homeprogram.blueprints.my_turn.routes import bp as my_turn_bp

    app.register_blueprint(my_turn_bp)

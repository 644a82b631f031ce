# One image for every role in docker-compose.yml (web, worker, beat, dicom).
# BASE_IMAGE: any image with Python 3.11 whose `python` and `pip` are on PATH. The default is the public one;
# machines that reach no image registry build a local equivalent from Debian's own Python and pass it here
# (containers/build-compose-images.sh, see the README).
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CUBE_STATIC_ROOT=/app/staticfiles
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# /spool and /jobs exist owned by cube so that a fresh named volume mounted there starts out writable by the
# unprivileged user (the engine copies the image directory's owner into an empty volume).
RUN useradd --uid 1001 --create-home cube && mkdir -p /jobs /spool && chown cube /jobs /spool \
    && DJANGO_SECRET_KEY=build CUBE_VAR_DIR=/tmp/var python manage.py collectstatic --noinput -v 0 \
    && rm -rf /tmp/var
USER cube
EXPOSE 8000 11111
CMD ["gunicorn", "cube.wsgi:application", "--bind", "0.0.0.0:8000"]

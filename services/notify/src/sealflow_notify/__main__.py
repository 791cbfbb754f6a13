from sealflow_runtime.service import serve

from sealflow_notify.entrypoints.app import build


def main() -> None:
    rt, app = build()
    serve(app, rt.settings)


if __name__ == "__main__":
    main()

//! A database file the hub cannot use is refused at start with the file's name and what to do,
//! and left exactly as it was (issue 21: "file is not a database" and a backtrace before).

use hub::{Hub, Registry, Storage};

fn open(path: &std::path::Path) -> String {
    match Hub::open(Storage::Sqlite(path.to_path_buf()), Registry::new()) {
        Ok(_) => panic!("{} should have been refused", path.display()),
        Err(e) => e.to_string(),
    }
}

fn advice(path: &std::path::Path, reason: &str) -> String {
    format!(
        "cannot use {} as the hub's database: {reason}. Nothing was changed in it. If it is \
         another program's file, point --data-dir elsewhere; if it is a damaged fleetdeck \
         database, move it aside (fleetdeck then starts with an empty hub) or restore it from \
         a backup",
        path.display()
    )
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("hub.db");
    let garbage = b"this is a text file, not SQLite\n".repeat(200);
    std::fs::write(&path, &garbage).expect("write");
    assert_eq!(open(&path), advice(&path, "file is not a database"));
    assert_eq!(std::fs::read(&path).expect("read"), garbage);
}

#[test]
fn another_programs_sqlite_database_is_refused_without_adding_tables_to_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("hub.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("sqlite");
        conn.execute_batch("CREATE TABLE songs (title TEXT); CREATE TABLE albums (name TEXT);")
            .expect("schema");
    }
    assert_eq!(
        open(&path),
        advice(
            &path,
            "it holds tables fleetdeck does not write (albums, songs)"
        )
    );
    let conn = rusqlite::Connection::open(&path).expect("sqlite");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("names");
    assert_eq!(tables, ["albums", "songs"]);
}

#[test]
fn a_damaged_object_row_names_the_object() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("hub.db");
    drop(Hub::open(Storage::Sqlite(path.clone()), Registry::new()).expect("a fresh hub"));
    {
        let conn = rusqlite::Connection::open(&path).expect("sqlite");
        conn.execute(
            "INSERT INTO objects (resource, namespace, name, body) VALUES ('configmaps', 'default', 'cm1', '{\"metadata\":')",
            [],
        )
        .expect("insert");
    }
    let message = open(&path);
    assert!(
        message.starts_with(&format!(
            "cannot use {} as the hub's database: its object configmaps/default/cm1 is not valid JSON (",
            path.display()
        )),
        "{message}"
    );
    // The hub's own file, untouched, opens again as it was.
    let empty = dir.path().join("empty.db");
    drop(Hub::open(Storage::Sqlite(empty.clone()), Registry::new()).expect("created"));
    assert!(Hub::open(Storage::Sqlite(empty), Registry::new()).is_ok());
}

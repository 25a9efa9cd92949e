//! `Memory::new` with locations it cannot use: refused with an error that says why, and
//! nothing written anywhere.

use std::path::PathBuf;

use dask::{CacheError, Error, Memory};

/// A fresh, empty folder of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "dask-memory-bad-paths-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The only test here that uses relative paths: the current directory is the process's,
/// and the other tests name absolute paths.
#[test]
fn an_empty_path_is_refused_and_the_current_directory_is_left_alone() {
    let dir = scratch("empty");
    let before = std::env::current_dir().unwrap();
    std::env::set_current_dir(&dir).unwrap();
    let refused = Memory::new("");
    let written = entries(&dir);
    // "." is the way to ask for the current directory, as the message says.
    let dot = Memory::new(".").map(|m| m.size().map(|s| s.entries));
    let with_dot = entries(&dir);
    std::env::set_current_dir(before).unwrap();
    std::fs::remove_dir_all(&dir).ok();

    match refused {
        Err(Error::InvalidConfig(message)) => assert_eq!(
            message,
            "Memory::new(\"\"): the cache directory path is empty; name a folder \
             (\"cache\", or \".\" for the current directory)"
        ),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    assert_eq!(written, Vec::<String>::new(), "nothing written for \"\"");
    assert_eq!(dot.unwrap().unwrap(), 0);
    assert_eq!(with_dot, vec![".gitignore", "CACHEDIR.TAG"]);
}

#[test]
fn the_refusal_reads_as_an_invalid_configuration() {
    let err = Memory::new(PathBuf::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid configuration: Memory::new(\"\"): the cache directory path is empty; \
         name a folder (\"cache\", or \".\" for the current directory)"
    );
}

#[test]
fn a_file_in_place_of_the_directory_fails_to_be_created_naming_it() {
    let dir = scratch("file");
    let file = dir.join("not-a-folder");
    std::fs::write(&file, b"user data").unwrap();
    let err = Memory::new(&file).unwrap_err();
    match &err {
        Error::Cache(CacheError::Io { action, path, .. }) => {
            assert_eq!(*action, "create");
            assert_eq!(path, &file);
        }
        other => panic!("expected CacheError::Io, got {other:?}"),
    }
    assert!(
        err.to_string().starts_with(&format!(
            "cache directory: cannot create {}: ",
            file.display()
        )),
        "{err}"
    );
    // The file is untouched and nothing was added beside it.
    assert_eq!(std::fs::read(&file).unwrap(), b"user data");
    assert_eq!(entries(&dir), vec!["not-a-folder"]);
    std::fs::remove_dir_all(&dir).ok();
}

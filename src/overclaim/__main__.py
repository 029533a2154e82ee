from overclaim.cli import main

main()
